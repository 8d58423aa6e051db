/** Placeholder until @gregor/protocol lands. */
import type { WireCodec } from './wire.js';

export const protocolCodec: WireCodec = new Proxy({} as WireCodec, {
  get() {
    throw new Error('protocol codec not available yet');
  },
});
