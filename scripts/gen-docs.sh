#!/usr/bin/env bash
# Regenerates the parts of docs/ derived from code: docs/schema.md and the reference table in
# docs/configuration.md (between the config-reference markers). `make docs` runs it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bin/healthgraph docs schema > docs/schema.md
table="$(bin/healthgraph docs config)"
python3 - "$table" <<'PY'
import re, sys
path = 'docs/configuration.md'
text = open(path).read()
start, end = '<!-- config-reference:start -->', '<!-- config-reference:end -->'
new = f"{start}\n{sys.argv[1]}\n{end}"
text = re.sub(re.escape(start) + '.*?' + re.escape(end), lambda _: new, text, flags=re.S)
open(path, 'w').write(text)
PY
