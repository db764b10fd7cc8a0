/**
 * Many rows go to D1 as one JSON text read back with json_each(), which keeps bulk writes to one
 * statement. D1 caps a single string at 2 MB, so rows are split into payloads well under that.
 */
const MAX_PAYLOAD_BYTES = 900_000

/** JSON texts of the rows, each under the payload limit (a single larger row gets a text of its own). */
export function jsonPayloads(rows: readonly unknown[]): string[] {
  const payloads: string[] = []
  let batch: string[] = []
  let bytes = 2
  for (const row of rows) {
    const text = JSON.stringify(row)
    const size = new TextEncoder().encode(text).length + 1
    if (batch.length > 0 && bytes + size > MAX_PAYLOAD_BYTES) {
      payloads.push(`[${batch.join(',')}]`)
      batch = []
      bytes = 2
    }
    batch.push(text)
    bytes += size
  }
  if (batch.length > 0) payloads.push(`[${batch.join(',')}]`)
  return payloads
}
