#!/bin/sh
# A stand-in for nvidia-smi describing an HGX-style host with H100 80GB SXM GPUs, for tests on
# machines without a GPU. Plain POSIX sh: the test host may have neither node nor python.
#
# Answers what the agent asks (agents/host/host-info.ts):
#   nvidia-smi --query-gpu=index,name,uuid,memory.total,memory.used,utilization.gpu,driver_version --format=csv,noheader,nounits
#   nvidia-smi topo -m
#   nvidia-smi            (banner with Driver Version and CUDA Version)
#   nvidia-smi -L
#
# Knobs:
#   FAKE_GPU_COUNT           number of GPUs (default 4); else the first line of a file named
#                            fake-gpu-count next to this script (e.g. ~/fakebin/fake-gpu-count)
#   FAKE_GPU_BUSY            comma-separated GPU indices that show memory in use and 97% load
#   FAKE_NVIDIA_SMI_FAIL     "driver": fail like a host whose driver is not loaded

DRIVER=550.54.15
CUDA=12.4
NAME="NVIDIA H100 80GB HBM3"
MEM_TOTAL=81559

here=$(dirname "$0")
count=${FAKE_GPU_COUNT:-}
if [ -z "$count" ] && [ -r "$here/fake-gpu-count" ]; then
  count=$(head -n 1 "$here/fake-gpu-count" | tr -d ' \t\r')
fi
count=${count:-4}
case "$count" in
  ''|*[!0-9]*) echo "fake nvidia-smi: GPU count must be a number, got '$count'" >&2; exit 2 ;;
esac

if [ "${FAKE_NVIDIA_SMI_FAIL:-}" = "driver" ]; then
  echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running."
  exit 9
fi

no_devices() {
  echo "No devices were found"
  exit 6
}

uuid() {
  printf 'GPU-7c1e5a9d-4b2f-4e08-9a3c-%012d' "$1"
}

is_busy() {
  case ",${FAKE_GPU_BUSY:-}," in
    *",$1,"*) return 0 ;;
  esac
  return 1
}

# First half of the GPUs sits on NUMA node 0 next to NIC0, the second half on node 1 next to NIC1.
numa_of() {
  half=$(( (count + 1) / 2 ))
  if [ "$1" -lt "$half" ]; then echo 0; else echo 1; fi
}

query_csv() {
  [ "$count" -gt 0 ] || no_devices
  i=0
  while [ "$i" -lt "$count" ]; do
    if is_busy "$i"; then used=71234; util=97; else used=0; util=0; fi
    printf '%d, %s, %s, %d, %d, %d, %s\n' "$i" "$NAME" "$(uuid "$i")" "$MEM_TOTAL" "$used" "$util" "$DRIVER"
    i=$((i + 1))
  done
}

list_gpus() {
  [ "$count" -gt 0 ] || no_devices
  i=0
  while [ "$i" -lt "$count" ]; do
    printf 'GPU %d: %s (UUID: %s)\n' "$i" "$NAME" "$(uuid "$i")"
    i=$((i + 1))
  done
}

topo() {
  [ "$count" -gt 0 ] || no_devices
  tab=$(printf '\t')
  line="$tab"
  i=0
  while [ "$i" -lt "$count" ]; do line="${line}GPU$i$tab"; i=$((i + 1)); done
  printf '%sNIC0\tNIC1\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\n' "$line"
  i=0
  while [ "$i" -lt "$count" ]; do
    line="GPU$i"
    j=0
    while [ "$j" -lt "$count" ]; do
      if [ "$i" -eq "$j" ]; then line="$line$tab X "; else line="${line}${tab}NV18"; fi
      j=$((j + 1))
    done
    if [ "$(numa_of "$i")" -eq 0 ]; then
      printf '%s\tPIX\tSYS\t0-55,112-167\t0\t\tN/A\n' "$line"
    else
      printf '%s\tSYS\tPIX\t56-111,168-223\t1\t\tN/A\n' "$line"
    fi
    i=$((i + 1))
  done
  for nic in 0 1; do
    line="NIC$nic"
    j=0
    while [ "$j" -lt "$count" ]; do
      if [ "$(numa_of "$j")" -eq "$nic" ]; then line="${line}${tab}PIX"; else line="${line}${tab}SYS"; fi
      j=$((j + 1))
    done
    if [ "$nic" -eq 0 ]; then printf '%s\t X \tSYS\n' "$line"; else printf '%s\tSYS\t X \n' "$line"; fi
  done
  cat <<'EOF'

Legend:

  X    = Self
  SYS  = Path crosses PCIe and the inter-socket link between NUMA nodes
  NODE = Path crosses PCIe and host bridges inside one NUMA node
  PHB  = Path crosses PCIe and one PCIe host bridge (the CPU)
  PXB  = Path crosses several PCIe bridges, no host bridge
  PIX  = Path crosses at most one PCIe bridge
  NV#  = Path over a bonded set of # NVLinks

NIC Legend:

  NIC0: mlx5_0
  NIC1: mlx5_1

EOF
}

banner() {
  [ "$count" -gt 0 ] || no_devices
  date '+%a %b %e %H:%M:%S %Y'
  echo '+-----------------------------------------------------------------------------------------+'
  printf '| NVIDIA-SMI %-22s Driver Version: %-14s CUDA Version: %-9s|\n' "$DRIVER" "$DRIVER" "$CUDA"
  echo '|-----------------------------------------+------------------------+----------------------+'
  echo '| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |'
  echo '| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |'
  echo '|=========================================+========================+======================|'
  i=0
  while [ "$i" -lt "$count" ]; do
    if is_busy "$i"; then used=71234; util=97; pwr=612; else used=0; util=0; pwr=71; fi
    printf '| %3d  %-30s  On |   00000000:%02X:00.0 Off |                    0 |\n' "$i" "H100 80GB HBM3" $((24 + i * 32))
    printf '| N/A   34C    P0            %3dW /  700W | %8dMiB / %5dMiB | %7d%%     Default |\n' "$pwr" "$used" "$MEM_TOTAL" "$util"
    echo '+-----------------------------------------+------------------------+----------------------+'
    i=$((i + 1))
  done
  echo
  echo '+-----------------------------------------------------------------------------------------+'
  echo '| Processes:                                                                              |'
  echo '|  No running processes found                                                             |'
  echo '+-----------------------------------------------------------------------------------------+'
}

usage_error() {
  echo "fake nvidia-smi: unsupported arguments: $*" >&2
  echo "It answers: (no arguments), -L, topo -m, and --query-gpu=index,name,uuid,memory.total,memory.used,utilization.gpu,driver_version --format=csv,noheader,nounits" >&2
  exit 2
}

if [ "$#" -eq 0 ]; then banner; exit 0; fi

case "$1" in
  -L|--list-gpus) list_gpus; exit 0 ;;
  topo)
    [ "${2:-}" = "-m" ] || [ "${2:-}" = "--matrix" ] || usage_error "$@"
    topo; exit 0 ;;
esac

query=''
format=''
for arg in "$@"; do
  case "$arg" in
    --query-gpu=*) query=${arg#--query-gpu=} ;;
    --format=*) format=${arg#--format=} ;;
    *) usage_error "$@" ;;
  esac
done
if [ "$query" = "index,name,uuid,memory.total,memory.used,utilization.gpu,driver_version" ] && [ "$format" = "csv,noheader,nounits" ]; then
  query_csv
  exit 0
fi
usage_error "$@"
