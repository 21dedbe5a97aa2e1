import { Socket } from 'node:net';

/**
 * Asks a Kafka broker for cluster metadata (Metadata API v4, no topics) over a plain socket:
 * the answer lists the live brokers, which is what "the broker is up" means to a client.
 * v4 because Kafka 4 removed v0-v3; it is also the newest non-flexible version, so no
 * tagged fields to encode.
 */
export async function kafkaMetadata(
  host: string,
  port: number,
  timeoutMs = 3000,
): Promise<{ brokers: Array<{ nodeId: number; host: string; port: number }>; clusterId: string | null }> {
  const clientId = Buffer.from('tickflow-stack');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
  let o = 0;
  o = body.writeInt16BE(3, o); // api_key Metadata
  o = body.writeInt16BE(4, o); // api_version
  o = body.writeInt32BE(1, o); // correlation_id
  o = body.writeInt16BE(clientId.length, o);
  o += clientId.copy(body, o);
  o = body.writeInt32BE(0, o); // topics: empty array → none, brokers only
  body.writeInt8(0, o); // allow_auto_topic_creation
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0]), body]);
  frame.writeInt32BE(body.length, 0);

  const response = await new Promise<Buffer>((resolve, reject) => {
    const socket = new Socket();
    const chunks: Buffer[] = [];
    let size = -1;
    let received = 0;
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
      if (size < 0 && received >= 4) size = Buffer.concat(chunks).readInt32BE(0);
      if (size >= 0 && received >= size + 4) {
        socket.destroy();
        resolve(Buffer.concat(chunks).subarray(4, size + 4));
      }
    });
    socket.once('end', () => fail(new Error('connection closed before a full answer')));
    socket.connect(port, host, () => socket.write(frame));
  });

  let r = 0;
  const int32 = () => {
    const v = response.readInt32BE(r);
    r += 4;
    return v;
  };
  const int16 = () => {
    const v = response.readInt16BE(r);
    r += 2;
    return v;
  };
  const str = () => {
    const n = int16();
    if (n < 0) return null;
    const v = response.toString('utf8', r, r + n);
    r += n;
    return v;
  };
  if (int32() !== 1) throw new Error('answer for another request');
  int32(); // throttle_time_ms
  const brokers: Array<{ nodeId: number; host: string; port: number }> = [];
  for (let n = int32(); n > 0; n--) {
    const nodeId = int32();
    const brokerHost = str() ?? '';
    const brokerPort = int32();
    str(); // rack
    brokers.push({ nodeId, host: brokerHost, port: brokerPort });
  }
  const clusterId = str();
  return { brokers, clusterId };
}

/** GET a JSON document with a bounded wait; throws on connection errors and non-2xx answers. */
export async function getJson<T>(url: string, timeoutMs = 3000): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return (await response.json()) as T;
}

export type FlinkOverview = {
  taskmanagers: number;
  'slots-total': number;
  'slots-available': number;
  'jobs-running': number;
  'flink-version': string;
};

export type GatewayInfo = { productName: string; version: string };
