/** The local stack's ports when nothing else is set (src/stack, and the Flink URLs' defaults). */
export const defaultPorts = { kafka: 9092, kafkaController: 9093, flink: 8081, flinkRpc: 6123, gateway: 8083 } as const;
