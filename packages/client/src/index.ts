export { murmur2, partitionForKey } from './murmur2.js';
export * from './partitioners.js';
export * from './assignors.js';
