#!/bin/sh
# bench/sdk/build-ts.sh SRC OUT TOOLS: builds Skyvern's TypeScript SDK from
# its source (SRC: skyvern-ts/client of a Skyvern checkout) into OUT, for
# bench/sdk/sdk_ts.js.  TOOLS is a folder whose node_modules has typescript
# and playwright (npm install typescript@5.7 playwright@1.48 @types/node@18
# there; the SDK's Skyvern class imports playwright, no browser is
# downloaded or started).  OUT must lie outside this tree.
#
# The SDK's repository leaves out src/api/resources/artifacts/ (its
# .gitignore drops every "artifacts/" folder), which Client.ts imports; the
# build puts in its place a class whose methods throw, so that nothing the
# bench calls can reach it unnoticed.  The rest is compiled as it is, to
# CommonJS, without type checking (the SDK's own build checks its types).
set -eu
[ $# -eq 3 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
src=$1 out=$2 tools=$(cd "$3" && pwd)
rm -rf "$out"
mkdir -p "$out"
cp -R "$src/src" "$src/package.json" "$src/tsconfig.base.json" "$src/tsconfig.cjs.json" "$out/"
art=$out/src/api/resources/artifacts
if [ ! -e "$art" ]; then
	mkdir -p "$art/client"
	cat >"$art/client/Client.ts" <<-'EOF'
		// Stand-in written by Sextant's bench/sdk/build-ts.sh: the folder is missing from the SDK's repository.
		export class Artifacts {
		    constructor(_options: unknown) {
		        return new Proxy(this, {
		            get() {
		                throw new Error("the SDK's artifacts resource is missing from its repository");
		            },
		        });
		    }
		}
	EOF
	echo 'export { Artifacts } from "./client/Client.js";' >"$art/index.ts"
fi
ln -s "$tools/node_modules" "$out/node_modules"
cd "$out"
./node_modules/.bin/tsc --project tsconfig.cjs.json --noCheck --declaration false \
	--isolatedDeclarations false --extendedDiagnostics false
echo "built $out/dist/cjs"
