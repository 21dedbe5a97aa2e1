/** 1000000 → "1,000,000": how rules are put in words (`tickflow rules check`). */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}
