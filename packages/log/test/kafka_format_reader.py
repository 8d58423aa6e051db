#!/usr/bin/env python3
"""Independent reader of a Kafka partition directory, written from Kafka's format documentation
and DumpLogSegments' checks, sharing no code with Gregor.

    python3 kafka_format_reader.py <partition-dir>... [--allow-gaps]

Checks, for every `<20-digit base>.log` segment: each RecordBatch v2's framing (length inside
the file, at least a bare header), magic 2, CRC-32C over attributes..end (own table), offsets
contiguous within and across segments (`--allow-gaps`: only increasing, for compacted logs), and
for uncompressed and gzip batches the records themselves (lengths, varints, record count, offset
deltas). Each `.index` entry must point at a batch start whose last offset is the entry's offset,
with offsets and positions increasing; each `.timeindex` must be monotonic and inside the segment.
Prints a summary per directory; exits 1 on any violation. Standard library only.
"""
import mmap
import os
import re
import struct
import sys
import zlib

CODECS = {0: 'none', 1: 'gzip', 2: 'snappy', 3: 'lz4', 4: 'zstd'}
HEADER_BYTES = 61


def make_crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = make_crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    table = CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def read_varint(data, pos):
    """Zigzag varint (int32 or int64); returns (value, new position)."""
    shift = 0
    raw = 0
    while True:
        if pos >= len(data):
            raise ValueError('varint runs past the end')
        byte = data[pos]
        pos += 1
        raw |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift > 63:
            raise ValueError('varint too long')
    return (raw >> 1) ^ -(raw & 1), pos


def parse_records(data, count):
    """Returns the offset deltas of `count` records filling `data` exactly."""
    pos = 0
    deltas = []
    for i in range(count):
        length, pos = read_varint(data, pos)
        end = pos + length
        if length < 6 or end > len(data):
            raise ValueError('record %d length %d does not fit' % (i, length))
        pos += 1  # attributes
        _, pos = read_varint(data, pos)  # timestampDelta
        offset_delta, pos = read_varint(data, pos)
        for _field in ('key', 'value'):
            size, pos = read_varint(data, pos)
            if size > 0:
                pos += size
        headers, pos = read_varint(data, pos)
        if headers < 0:
            raise ValueError('negative header count')
        for _ in range(headers):
            size, pos = read_varint(data, pos)
            pos += max(size, 0)
            size, pos = read_varint(data, pos)
            pos += max(size, 0)
        if pos != end:
            raise ValueError('record %d declares %d bytes but fields use %d' % (i, length, length + pos - end))
        deltas.append(offset_delta)
    if pos != len(data):
        raise ValueError('%d bytes after the last record' % (len(data) - pos))
    return deltas


class Reader:
    def __init__(self, directory, allow_gaps):
        self.directory = directory
        self.allow_gaps = allow_gaps
        self.violations = []
        self.stats = {'segments': 0, 'batches': 0, 'records': 0, 'decoded': 0, 'index_entries': 0, 'time_index_entries': 0}
        self.codecs = {}
        self.next_offset = None

    def violation(self, where, message):
        self.violations.append('%s: %s' % (where, message))

    def run(self):
        if not os.path.isdir(self.directory):
            self.violation(self.directory, 'not a directory')
            return False
        names = sorted(name for name in os.listdir(self.directory) if re.fullmatch(r'\d{20}\.log', name))
        if not names:
            self.violation(self.directory, 'no segment files')
        for name in names:
            self.read_segment(int(name[:20]), os.path.join(self.directory, name))
        return not self.violations

    def read_segment(self, base, path):
        self.stats['segments'] += 1
        batches = {}
        with open(path, 'rb') as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                data = b''
            else:
                data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            pos = 0
            while pos < size:
                batch = self.read_batch(path, data, pos, size, base)
                if batch is None:
                    break
                batches[pos] = batch
                pos += batch['size']
        last = max((b['last'] for b in batches.values()), default=base - 1)
        self.check_index(base, path[:-4] + '.index', batches, size)
        self.check_time_index(base, path[:-4] + '.timeindex', last)

    def read_batch(self, path, data, pos, size, base):
        where = '%s@%d' % (os.path.basename(path), pos)
        if size - pos < HEADER_BYTES:
            self.violation(where, '%d trailing bytes, less than a batch header' % (size - pos))
            return None
        base_offset, length, _epoch, magic, crc = struct.unpack_from('>qiibI', data, pos)
        if length < HEADER_BYTES - 12 or pos + 12 + length > size:
            self.violation(where, 'batchLength %d does not fit the file' % length)
            return None
        if magic != 2:
            self.violation(where, 'magic %d' % magic)
            return None
        attributes, last_delta = struct.unpack_from('>hi', data, pos + 21)
        count, = struct.unpack_from('>i', data, pos + 57)
        end = pos + 12 + length
        if crc32c(data[pos + 21:end]) != crc:
            self.violation(where, 'CRC-32C mismatch')
        last = base_offset + last_delta
        if base_offset < base:
            self.violation(where, 'baseOffset %d below the segment base %d' % (base_offset, base))
        if self.next_offset is not None:
            if self.allow_gaps and base_offset < self.next_offset:
                self.violation(where, 'baseOffset %d goes back (expected >= %d)' % (base_offset, self.next_offset))
            if not self.allow_gaps and base_offset != self.next_offset:
                self.violation(where, 'baseOffset %d is not contiguous (expected %d)' % (base_offset, self.next_offset))
        if last_delta < 0 or count < 0:
            self.violation(where, 'lastOffsetDelta %d, count %d' % (last_delta, count))
        self.next_offset = last + 1
        codec = attributes & 7
        self.codecs[CODECS.get(codec, str(codec))] = self.codecs.get(CODECS.get(codec, str(codec)), 0) + 1
        self.stats['batches'] += 1
        self.stats['records'] += count
        self.check_records(where, bytes(data[pos + HEADER_BYTES:end]), codec, count, last_delta)
        return {'size': 12 + length, 'last': last, 'base': base_offset}

    def check_records(self, where, section, codec, count, last_delta):
        try:
            if codec == 0:
                records = section
            elif codec == 1:
                records = zlib.decompress(section, 47)
            else:
                return  # snappy, lz4, zstd have no standard-library decoder: framing and CRC only
            deltas = parse_records(records, count)
        except (ValueError, zlib.error) as error:
            self.violation(where, 'records: %s' % error)
            return
        self.stats['decoded'] += 1
        if any(b <= a for a, b in zip(deltas, deltas[1:])) or (deltas and (deltas[0] < 0 or deltas[-1] > last_delta)):
            self.violation(where, 'offset deltas %s not increasing within [0, %d]' % (deltas[:8], last_delta))
        if not self.allow_gaps and deltas != list(range(count)):
            self.violation(where, 'offset deltas are not 0..%d' % (count - 1))
        if not self.allow_gaps and last_delta != count - 1:
            self.violation(where, 'lastOffsetDelta %d for %d records' % (last_delta, count))

    def entries(self, path, size):
        if not os.path.exists(path):
            return []
        with open(path, 'rb') as handle:
            data = handle.read()
        out = []
        for at in range(0, len(data) - len(data) % size, size):
            chunk = data[at:at + size]
            if at > 0 and chunk == bytes(size):
                break  # preallocated zeros after the entries
            out.append(chunk)
        return out

    def check_index(self, base, path, batches, log_size):
        where = os.path.basename(path)
        previous = (-1, -1)
        for i, chunk in enumerate(self.entries(path, 8)):
            relative, position = struct.unpack('>ii', chunk)
            self.stats['index_entries'] += 1
            if relative <= previous[0] or position <= previous[1]:
                self.violation(where, 'entry %d (%d, %d) does not increase' % (i, relative, position))
            previous = (relative, position)
            if position >= log_size or position not in batches:
                self.violation(where, 'entry %d position %d is not a batch start' % (i, position))
            elif batches[position]['last'] != base + relative:
                self.violation(where, 'entry %d offset %d != last offset %d of its batch' % (i, base + relative, batches[position]['last']))

    def check_time_index(self, base, path, last_offset):
        where = os.path.basename(path)
        previous = (None, base)
        for i, chunk in enumerate(self.entries(path, 12)):
            timestamp, relative = struct.unpack('>qi', chunk)
            self.stats['time_index_entries'] += 1
            if previous[0] is not None and timestamp <= previous[0]:
                self.violation(where, 'entry %d timestamp %d does not increase' % (i, timestamp))
            if base + relative < previous[1] or base + relative > last_offset:
                self.violation(where, 'entry %d offset %d outside [%d, %d]' % (i, base + relative, previous[1], last_offset))
            previous = (timestamp, base + relative)


def main(argv):
    directories = [a for a in argv[1:] if not a.startswith('--')]
    if not directories:
        print('usage: kafka_format_reader.py <partition-dir>... [--allow-gaps]', file=sys.stderr)
        return 2
    failed = 0
    for directory in directories:
        reader = Reader(directory, '--allow-gaps' in argv)
        ok = reader.run()
        stats = reader.stats
        print('%s: %d segments, %d batches, %d records (%d batches decoded), codecs %s, %d index entries, %d time index entries' % (
            directory, stats['segments'], stats['batches'], stats['records'], stats['decoded'],
            ', '.join('%s=%d' % kv for kv in sorted(reader.codecs.items())) or '-', stats['index_entries'], stats['time_index_entries']))
        for line in reader.violations[:50]:
            print('VIOLATION ' + line)
        if len(reader.violations) > 50:
            print('... %d more violations' % (len(reader.violations) - 50))
        print('%s: %s' % (directory, 'OK' if ok else 'FAILED: %d violations' % len(reader.violations)))
        failed += 0 if ok else 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
