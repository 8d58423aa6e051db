/**
 * @gregor/records: Kafka's RecordBatch v2 (magic 2) byte for byte — header reading and patching,
 * batch encoding (BatchBuilder) and decoding, varints, CRC-32C, codecs with a decompressed-size
 * limit, control records. Depends on nothing else of Gregor's.
 */
export * from './errors.js';
export { crc32c, crc32cImplementation } from './crc32c.js';
export * from './varint.js';
export * from './header.js';
export * from './codecs.js';
export { lz4DecompressedBound, LZ4_SCRATCH_BYTES_MAX } from './lz4.js';
export * from './builder.js';
export * from './decode.js';
export { checkRecords } from './validate.js';
export * from './control.js';
