#!/usr/bin/env bash
# Makes tests/fixtures/v1/jdo.db: a working database written by a released jdo
# (schema version 1, row-level versions), so the upgrade test runs the new
# migrations on real data of the old release, not on a hand-made imitation.
#
#   bash scripts/make_upgrade_fixture.sh [COMMIT]   (default: 49f663d, the v1 release on main)
set -euo pipefail
cd "$(dirname "$0")/.."
commit="${1:-49f663d}"
work="$(mktemp -d)"
trap 'git worktree remove --force "$work/src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/src" "$commit" >/dev/null
ln -s "$PWD/node_modules" "$work/src/node_modules"
home="$work/home"
jdo() { JDO_HOME="$home" JDO_TIMEZONE=UTC JDO_SYNC_AUTO=0 NO_COLOR=1 \
  deno run -A --quiet "$work/src/main.ts" "$@"; }

jdo stakeholder add Alice >/dev/null
jdo vision add "Calm ops" --narrative "Fewer pages at night" --metric "pages/week < 2" >/dev/null
goal=$(jdo goal add "Ship v2" --problem "v1 is slow" --json | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1)
jdo milestone add "$goal" "Beta" --target 2027-01-15 >/dev/null
c1=$(jdo commit "Quarterly report" --to Alice --due 2027-01-10 --notes "draft in docs" --goal "$goal" --json |
  sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1)
jdo task add "$c1" "Collect figures" --estimate 2 >/dev/null
c2=$(jdo commit "Design review" --to Bob --due 2027-01-05 --json | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1)
jdo complete "$c2" >/dev/null
c3=$(jdo commit "Old promise" --to Alice --due 2027-02-01 --json | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1)
jdo delete "$c3" --yes >/dev/null
jdo capture "call the bank" >/dev/null

mkdir -p tests/fixtures/v1
rm -f tests/fixtures/v1/jdo.db
# One self-contained file (no -wal beside it).
cat > "$work/vacuum.ts" <<TS
import { createClient } from "@libsql/client";
const c = createClient({ url: "file:$home/jdo.db" });
await c.execute("VACUUM INTO '$PWD/tests/fixtures/v1/jdo.db'");
c.close();
TS
cp "$work/vacuum.ts" ./.fixture_vacuum.ts
deno run -A --quiet ./.fixture_vacuum.ts
rm -f ./.fixture_vacuum.ts
echo "wrote tests/fixtures/v1/jdo.db from $commit"
