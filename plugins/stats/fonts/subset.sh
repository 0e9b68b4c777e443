#!/bin/sh
# subset.sh regenerates wqy-microhei-gb2312.ttf.gz from Debian's
# fonts-wqy-microhei package with fonttools' pyftsubset:
#
#   apt-get install fonts-wqy-microhei fonttools
#   sh plugins/stats/fonts/subset.sh
#
# The subset keeps face 0 (WenQuanYi Micro Hei) of the collection and the
# characters of GB 2312 (6,763 hanzi plus its symbols), ASCII, Latin-1,
# general punctuation, arrows, geometric shapes, CJK punctuation and the
# full-width forms: about 8,100 glyphs, 1.3 MB, 0.68 MB gzipped, instead of
# the 5 MB collection. Characters outside it are never drawn as boxes: the
# chart code checks every label against the font and falls back.
set -eu
src=${SRC:-/usr/share/fonts/truetype/wqy/wqy-microhei.ttc}
dir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp/chars.txt" <<'PY'
import sys
chars = set()
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
ranges = [(0x20, 0x7F), (0xA0, 0x100), (0x2000, 0x206F), (0x2190, 0x21FF),
          (0x25A0, 0x25FF), (0x3000, 0x3040), (0xFF00, 0xFFEF)]
for lo, hi in ranges:
    chars.update(chr(c) for c in range(lo, hi))
open(sys.argv[1], "w", encoding="utf-8").write("".join(sorted(chars)))
PY
pyftsubset "$src" --font-number=0 --text-file="$tmp/chars.txt" \
  --output-file="$tmp/wqy-microhei-gb2312.ttf" --no-hinting --desubroutinize \
  --layout-features='' --name-IDs='*' --name-legacy --name-languages='*'
gzip -9 -n -c "$tmp/wqy-microhei-gb2312.ttf" > "$dir/wqy-microhei-gb2312.ttf.gz"
ls -l "$dir/wqy-microhei-gb2312.ttf.gz"
