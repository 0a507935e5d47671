#!/usr/bin/env python3
"""Cuts fuzz seeds out of real QEMU 7.2 streams (../shared/qemu-corpus) into the fuzz targets' Inputs
directories. Run once by hand (tests never read ../shared); the seeds are committed.

    fuzz/extract-seeds.py /work/shared/qemu-corpus
"""
import json, os, struct, sys, zlib

corpus = sys.argv[1]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bundles')

def out(module, pkg, cls, method, name, data):
    d = os.path.join(root, module, 'src/test/resources', pkg.replace('.', '/'), cls + 'Inputs', method)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

def read(name):
    with open(os.path.join(corpus, name), 'rb') as f:
        return f.read()

def xbzrle_ok(data):
    i = d = 0
    def uleb(i):
        v = s = 0
        while True:
            if i >= len(data): return None, i
            b = data[i]; i += 1; v |= (b & 0x7f) << s; s += 7
            if not b & 0x80: return v, i
    while i < len(data):
        z, i = uleb(i)
        if z is None: return False
        d += z
        nz, i = uleb(i)
        if not nz: return False
        i += nz; d += nz
        if d > 4096 or i > len(data): return False
    return True

def scan(stream, want, limit):
    """page records with flag `want` whose payload checks out: yields the payload (after the block name)"""
    found = []
    p = 0
    n = len(stream)
    while p + 8 < n and len(found) < limit:
        hdr = struct.unpack('>Q', stream[p:p + 8])[0]
        flags = hdr & 0xfff
        q = p + 8
        if flags & want and not flags & ~(want | 0x20):
            if not flags & 0x20:
                ln = stream[q]; q += 1 + ln
            if want == 0x40 and q + 3 <= n and stream[q] == 1:
                ln = struct.unpack('>H', stream[q + 1:q + 3])[0]
                payload = stream[q:q + 3 + ln]
                if 0 < ln <= 4096 and xbzrle_ok(payload[3:]):
                    found.append(payload); p = q + 3 + ln; continue
            if want == 0x100 and q + 4 <= n:
                ln = struct.unpack('>I', stream[q:q + 4])[0]
                if 0 < ln < 4200:
                    try:
                        if len(zlib.decompress(stream[q + 4:q + 4 + ln])) == 4096:
                            found.append(stream[q:q + 4 + ln]); p = q + 4 + ln; continue
                    except zlib.error:
                        pass
        p += 1
    return found

# XBZRLE and zlib page payloads, a few of each kind
for i, s in enumerate(scan(read('dirty-xbzrle-16M.mig'), 0x40, 6)):
    out('ram', 'org.savevm.ram.codec', 'XbzrleFuzzTest', 'xbzrlePayload', 'corpus-dirty-xbzrle-%d' % i, s)
for i, s in enumerate(scan(read('dirty-compress-16M.mig'), 0x100, 4)):
    out('ram', 'org.savevm.ram.codec', 'PageCompressionFuzzTest', 'compressedPage', 'corpus-dirty-compress-%d' % i, s)

# configuration records (after the 0x07 byte) and vmdesc trailers' JSON
for name in ['paused-16M.mig', 'dirty-both-16M.mig', 'nofooter-16M.mig']:
    s = read(name)
    assert s[8] == 7
    ln = struct.unpack('>I', s[9:13])[0]
    p = 13 + ln
    while s[p] == 5:  # subsections: 0x05, counted name, be32 version, body up to the end of the record
        nl = s[p + 1]
        p += 2 + nl + 4
        sub = s[p - 4 - nl:p - 4]
        if sub.endswith(b'capabilities'):
            cnt = struct.unpack('>I', s[p:p + 4])[0]; p += 4
            for _ in range(cnt):
                p += 1 + s[p]
        elif sub.endswith(b'target-page-bits'):
            p += 4
        elif sub.endswith(b'uuid'):
            p += 16
    out('savevm', 'org.savevm.core.fuzz', 'ConfigurationFuzzTest', 'configurationRecord',
        'corpus-' + name.replace('.mig', ''), s[9:p])
for name in ['paused-16M.mig', 'serial-16M.mig']:
    s = read(name)
    at = s.rindex(b'\x06', 0, s.rindex(b'{"page_size"'))
    ln = struct.unpack('>I', s[at + 1:at + 5])[0]
    trailer = s[at + 5:at + 5 + ln]
    out('savevm', 'org.savevm.core.loadvm', 'VmdescSectionsFuzzTest', 'vmdescTrailer',
        'corpus-' + name.replace('.mig', '') + '-trailer', trailer)
    if name == 'serial-16M.mig':  # one devices[] entry per kind for the descriptor target
        seen = set()
        for d in json.loads(trailer)['devices']:
            if d['name'] not in seen and len(seen) < 9:
                seen.add(d['name'])
                out('vmstate', 'org.savevm.vmstate.internal.json', 'VmdescJsonFuzzTest', 'vmdescDevice',
                    'corpus-' + d['name'].replace('/', '_'), json.dumps(d, separators=(',', ':')).encode())
