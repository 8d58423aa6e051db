/**
 * Views of fetched record bytes as Buffers, made the way Node makes its own: `Buffer#subarray`
 * checks and adjusts its arguments in JavaScript before constructing the view, which costs about
 * twice the construction itself, and the consumer makes up to two views (key, value) per record.
 * `bufferView` constructs a Uint8Array subclass whose prototype chain holds `Buffer.prototype`,
 * exactly as Node's internal FastBuffer is built, so a view is a Buffer in every respect
 * (`Buffer.isBuffer`, `instanceof Buffer`, every Buffer method, `constructor === Buffer`, and the
 * buffers derived from it are plain Buffers). The caller has checked the range. Pure.
 */

// An anonymous class, made by a function: tools that keep function names (esbuild's keepNames, which
// tsx and vitest use) redefine the `name` of a named class, and V8 then constructs a subclass of
// Uint8Array through its slow path, about ten times slower (measured: 19 ns against 186 ns).
const BufferView = (() => class extends Uint8Array {})();
Object.setPrototypeOf(BufferView.prototype, Buffer.prototype);
Object.defineProperty(BufferView.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });

/** The bytes `start` to `start + length` of `data` as a Buffer sharing its memory. */
export function bufferView(data: Buffer, start: number, length: number): Buffer {
  return new BufferView(data.buffer as ArrayBuffer, data.byteOffset + start, length) as unknown as Buffer;
}
