#!/usr/bin/env bash
# Trajectory benchmarks, side by side in one run on this machine: QuTiP 5 `mcsolve` (pip, in
# bench/.venv, map "parallel" over 2 processes as the QuantumToolbox.jl paper's script does) and
# nestq's native `mcsolve` (CLI, 1 and 2 threads) on
#   - the dissipative Ising chain of bench/ising_model.py (N in MC_NS, MC_NTRAJ trajectories),
#   - the QuantumToolbox.jl paper's driven Kerr oscillator (N = 50, 100 trajectories).
# Writes bench/out/mcsolve.jsonl and prints a markdown table.
#   bash bench/mcsolve.sh                    # Ising N = 6 8, 500 trajectories; Kerr 100
#   MC_NS="6 8 10" MC_NTRAJ=500 bash bench/mcsolve.sh
#   MC_SKIP_QUTIP=1 …                        # nestq only
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
out=bench/out/mcsolve.jsonl
: > "$out"
NS="${MC_NS:-6 8}"
NTRAJ="${MC_NTRAJ:-500}"
if [ -z "${MC_SKIP_QUTIP:-}" ] && ! bench/.venv/bin/python -c "import qutip" 2>/dev/null; then
  echo "[mcsolve bench] installing QuTiP 5 into bench/.venv" >&2
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install -q qutip
fi
bash scripts/build/ensure-rust.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -q -p nestq-cli
load() { cut -d' ' -f1-3 /proc/loadavg | tr ' ' ','; }
{
  echo "{\"bench\": \"machine\", \"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\", \"cores\": $(nproc), \"date\": \"$(date -u '+%F %T UTC')\", \"rustc\": \"$(rustc --version)\"}"
} | tee -a "$out"
nestq_case() { # NAME MODEL.json THREADS
  local res=bench/out/mc_$1_t$3.json l; l=$(load)
  target/release/nestq run "$2" --out "$res" --threads "$3" --quiet
  python3 - "$1" "$3" "$res" "$l" <<'PY' | tee -a bench/out/mcsolve.jsonl
import json, sys
name, threads, path, load = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
r = json.load(open(path))
k = next(iter(r["expect"]))
v = r["expect"][k][-1]
print(json.dumps({"bench": f"mcsolve_{name}", "impl": "nestq-native", "threads": threads, "ntraj": r["trajectories"]["ntraj"],
                  "wall_s": r["stats"]["wall_s"], "final": v if isinstance(v, float) else v[0], "final_se": r["std_expect"][k][-1],
                  "steps": r["stats"]["steps"], "load": [float(x) for x in load.split(",")]}))
PY
}
qutip_case() { # ARGS…
  [ -n "${MC_SKIP_QUTIP:-}" ] && return 0
  local l; l=$(load)
  bench/.venv/bin/python bench/qutip5_mcsolve.py "$@" 2>/dev/null | sed "s/}\$/, \"load\": [$l]}/" | tee -a "$out"
}
for n in $NS; do
  python3 bench/mc_models.py ising "$n" "$NTRAJ" 1 > "bench/out/mc_ising$n.json"
  nestq_case "ising$n" "bench/out/mc_ising$n.json" 1
  nestq_case "ising$n" "bench/out/mc_ising$n.json" 2
  qutip_case ising "$n" "$NTRAJ" 2
done
python3 bench/mc_models.py kerr 100 1 > bench/out/mc_kerr.json
nestq_case kerr bench/out/mc_kerr.json 1
nestq_case kerr bench/out/mc_kerr.json 2
qutip_case kerr 100 2
python3 - <<'PY'
import json
rows = [json.loads(l) for l in open("bench/out/mcsolve.jsonl") if l.startswith("{")]
print("\n| case | implementation | threads/processes | trajectories | wall s | final ⟨O⟩ ± SE | load (1 min) |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    if r["bench"] == "machine":
        continue
    par = r.get("threads", r.get("cpus"))
    se = r.get("final_se")
    print(f"| {r['bench'][8:]} | {r['impl']} | {par} | {r['ntraj']} | {r['wall_s']:.2f} | {r['final']:.4f} ± {se:.4f} | {r.get('load', [0])[0]:.2f} |")
PY
