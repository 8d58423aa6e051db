/**
 * Registers snappy, lz4 and zstd with kafkajs, implemented with @gregor/records' codecs. kafkajs's
 * codec convention: `compress(encoder)` gets an Encoder whose `.buffer` holds the uncompressed
 * records and resolves to the compressed bytes; `decompress(buffer)` the reverse. Snappy follows
 * kafkajs-snappy and the JVM client: xerial framing written, xerial or raw read.
 */
import { compress, decompress } from '@gregor/records';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';

const DECOMPRESSED_BYTES_MAX = 64 * 1024 * 1024;

function kafkajsCodec(codec: number) {
  return () => ({
    async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
      return compress(codec, encoder.buffer);
    },
    async decompress(buffer: Buffer): Promise<Buffer> {
      return decompress(codec, buffer, DECOMPRESSED_BYTES_MAX);
    },
  });
}

export function registerGregorCodecs(): void {
  CompressionCodecs[CompressionTypes.Snappy] = kafkajsCodec(2);
  CompressionCodecs[CompressionTypes.LZ4] = kafkajsCodec(3);
  CompressionCodecs[CompressionTypes.ZSTD] = kafkajsCodec(4);
}
