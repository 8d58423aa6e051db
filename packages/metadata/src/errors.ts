/**
 * The one error class of @gregor/metadata. `code` is stable: CORRUPT_METADATA_RECORD (bytes that
 * do not decode), UNKNOWN_METADATA_RECORD (a type or version this code cannot read: a newer
 * writer), INVALID_METADATA_RECORD (a record that does not apply to the image, such as a partition
 * of a topic that does not exist). None is retriable: the same log gives the same error.
 */
export class MetadataError extends Error {
  readonly retriable = false;
  constructor(
    readonly code: 'CORRUPT_METADATA_RECORD' | 'UNKNOWN_METADATA_RECORD' | 'INVALID_METADATA_RECORD',
    message: string,
  ) {
    super(message);
    this.name = 'MetadataError';
  }
}
