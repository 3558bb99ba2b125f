// A minimal zip writer that packs loose photos into one part: entries stored as they are (photos
// are compressed already), UTF-8 names, no ZIP64 (a pack stays far below 4 GB and 65,535 entries).

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();
const UTF8_NAMES = 0x0800;
// 1980-01-01 00:00, the earliest DOS date: the server reads no dates, and equal input then packs to equal bytes.
const DOS_TIME = 0;
const DOS_DATE = 0x21;

/** Return the CRC-32 of some bytes. */
function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i += 1) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Return little-endian bytes for a list of [width in bytes, value] fields. */
function fields(list) {
  const bytes = new Uint8Array(list.reduce((sum, [width]) => sum + width, 0));
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const [width, value] of list) {
    if (width === 2) view.setUint16(at, value, true);
    else view.setUint32(at, value, true);
    at += width;
  }
  return bytes;
}

/** Return a zip Blob holding files under their names; the files' bytes are read once, for their CRCs. */
export async function storedZip(entries) {
  const encoder = new TextEncoder();
  const body = [];
  const directory = [];
  let offset = 0;
  for (const { name, file } of entries) {
    const nameBytes = encoder.encode(name);
    const crc = crc32(new Uint8Array(await file.arrayBuffer()));
    const common = [[2, 20], [2, UTF8_NAMES], [2, 0], [2, DOS_TIME], [2, DOS_DATE], [4, crc], [4, file.size], [4, file.size], [2, nameBytes.length]];
    const local = fields([[4, 0x04034b50], ...common, [2, 0]]);
    directory.push(fields([[4, 0x02014b50], [2, 20], ...common, [2, 0], [2, 0], [2, 0], [2, 0], [4, 0], [4, offset]]), nameBytes);
    body.push(local, nameBytes, file);
    offset += local.length + nameBytes.length + file.size;
  }
  const size = directory.reduce((sum, bytes) => sum + bytes.length, 0);
  const end = fields([[4, 0x06054b50], [2, 0], [2, 0], [2, entries.length], [2, entries.length], [4, size], [4, offset], [2, 0]]);
  return new Blob([...body, ...directory, end], { type: "application/zip" });
}
