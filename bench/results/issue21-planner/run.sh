#!/bin/bash
# same-run before/after: alternates base (7ebb8af) and new worktree
set -u
NEW=/work/wt/speed; BASE=/tmp/speed-base
NODE=/work/wt/speed/node_modules/.bin/node
uptime
for i in 1 2 3; do
  for side in base new; do
    d=$BASE; [ $side = new ] && d=$NEW
    (cd $d && $NODE --expose-gc bench/decode.ts --sizes 16 --mode recovery --runs 1 --out /tmp/speedA/dec-$side-$i.json > /tmp/speedA/dec-$side-$i.log 2>&1)
    (cd $d && $NODE --expose-gc bench/encode.ts --sizes 16 --runs 1 --out /tmp/speedA/enc-$side-$i.json > /tmp/speedA/enc-$side-$i.log 2>&1)
    /usr/bin/time -f "%e %U %S %M" -o /tmp/speedA/sdec-$side-$i.time $NODE $d/bin/tusk.js decode /tmp/speedA/dir --out /tmp/speedA/out-$side.bin --force > /dev/null 2>&1
    cmp -s /tmp/speedA/out-$side.bin /tmp/speedA/blob.bin && echo "$side $i stream-decode ok $(cat /tmp/speedA/sdec-$side-$i.time)"
  done
done
uptime
