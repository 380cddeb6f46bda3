#!/usr/bin/python3
"""A tree of files whose names, sizes and contents follow from a seed,
so that one host can write it and any other check it without the two
exchanging anything but the seed.

  filetree.py make DIR SEED COUNT    write COUNT files under DIR
  filetree.py check DIR SEED COUNT   DIR holds exactly those files

Sizes: most files small (as a source tree or a mail spool), one in 32
up to 256 KiB, and a few empty ones: some 12 KiB on average. check exits 1 on the first missing,
extra, short, long or changed file and says which.
"""
import os
import random
import sys

PER_DIR = 100


def layout(seed, count):
    """(relative path, size, content seed) of every file."""
    rng = random.Random(seed)
    for i in range(count):
        d = "d%03d" % (i // PER_DIR)
        roll = rng.random()
        if roll < 1 / 64:
            size = 0
        elif roll < 1 / 64 + 1 / 32:
            size = rng.randrange(16 << 10, (256 << 10) + 1)
        else:
            size = rng.randrange(1, 16 << 10)
        yield os.path.join(d, "f%05d" % i), size, rng.getrandbits(64)


def content(size, cseed):
    return random.Random(cseed).randbytes(size)


def make(top, seed, count):
    total = 0
    for rel, size, cseed in layout(seed, count):
        path = os.path.join(top, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content(size, cseed))
        total += size
    print("made %d files, %d bytes, under %s" % (count, total, top))


def check(top, seed, count):
    want = {}
    total = 0
    for rel, size, cseed in layout(seed, count):
        want[rel] = (size, cseed)
    found = set()
    for root, _, files in os.walk(top):
        for name in files:
            found.add(os.path.relpath(os.path.join(root, name), top))
    extra = sorted(found - set(want))
    if extra:
        sys.exit("FAIL: %d files not of the tree, first %s" % (len(extra), extra[0]))
    for rel, (size, cseed) in sorted(want.items()):
        if rel not in found:
            sys.exit("FAIL: %s is missing" % rel)
        with open(os.path.join(top, rel), "rb") as f:
            got = f.read()
        if len(got) != size:
            sys.exit("FAIL: %s has %d bytes, not %d" % (rel, len(got), size))
        if got != content(size, cseed):
            first = next(i for i, (a, b) in
                         enumerate(zip(got, content(size, cseed))) if a != b)
            sys.exit("FAIL: %s differs from byte %d on" % (rel, first))
        total += size
    print("checked %d files, %d bytes, under %s" % (count, total, top))


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("make", "check"):
        sys.exit(__doc__)
    top, seed, count = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    (make if sys.argv[1] == "make" else check)(top, seed, count)


if __name__ == "__main__":
    main()
