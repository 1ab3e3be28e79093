// Storage quotas on a Docker host: each data volume of a resource is a
// file-system image of its size (ext4, sparse), loop-mounted under
// <projects dir>/<project>.volumes/<volume>, and the Docker volume is a local
// volume bound onto a folder *inside* that mount. Writing past the size fails
// inside the resource only (ENOSPC), and the host keeps its free space.
//
// Why a folder inside the mount: after a reboot (or anything that unmounts
// it) the folder does not exist, so Docker refuses to start the container
// instead of letting it write onto the host's disk under the empty mount
// point. Every deploy mounts again (idempotent).
//
// A host whose deploy user may not mount (not root, no password-less sudo, or
// a mount the kernel refuses, e.g. an unprivileged container) gets plain
// folders at the same place: the quota is then "not enforced", and the
// script says so in its status line rather than pretending.
//
// POSIX sh + util-linux + e2fsprogs, as every Debian host has them. Pure: the
// Docker-host target runs these scripts through @pulumi/command.

export const volumesStatusPrefix = "provisioner-volumes:";

/** Where a project's volume images and mounts live on the host: named from the project (the resource's host name) only. */
export function volumesDir(projectsDir: string, project: string): string {
  return `${projectsDir}/${project}.volumes`;
}

/** The folder a Docker volume binds to: inside the mount, so an unmounted volume cannot be written to. */
export function volumeDataDir(projectsDir: string, project: string, volume: string): string {
  return `${volumesDir(projectsDir, project)}/${volume}/data`;
}

export interface VolumeQuotaPlan {
  project: string;
  projectsDir: string;
  /** Labels put on each Docker volume (the project label included). */
  labels: Record<string, string>;
  /** Volume name → size in MB. */
  sizesMb: Record<string, number>;
}

/** What the ensure script reports on its last line (after `provisioner-volumes:`). */
export interface VolumesStatus {
  /** "enforced" (a loop-mounted ext4 image per volume) or "not enforced". */
  quota: "enforced" | "not enforced";
  method?: string;
  reason?: string;
  /** Volume name → size in MB it is limited to (enforced) or would be. */
  sizesMb: Record<string, number>;
  /** Volumes made before quotas existed (plain Docker volumes): kept as they are, not limited. */
  legacy?: string[];
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

const checkName = (volume: string) => {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(volume)) throw new Error(`volume name "${volume}" is not a DNS label`);
  return volume;
};

/** Sets $SUDO to what runs mount/losetup: nothing as root, `sudo -n` when it works, else leaves $SUDO unset-able (`-`). */
const pickSudo = [
  `if [ "$(id -u)" = 0 ]; then SUDO=''; elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then SUDO='sudo -n'; else SUDO='-'; fi`,
];

/**
 * Creates (or grows) and mounts each volume's image, then the Docker volumes
 * bound into them. Idempotent: run at each create and update, and by the
 * deploy script before each `up` (so a rebooted host gets its mounts back).
 * Never shrinks a volume: a smaller size keeps the larger image (data is sacred).
 */
export function ensureVolumesScript(plan: VolumeQuotaPlan): string[] {
  const dir = volumesDir(plan.projectsDir, plan.project);
  const labelArgs = Object.entries(plan.labels)
    .map(([k, v]) => `--label ${quote(`${k}=${v}`)}`)
    .join(" ");
  const lines = [
    ...pickSudo,
    `vdir=${quote(dir)}`,
    'mkdir -p "$vdir"',
    'vdir=$(cd "$vdir" && pwd -P)',
    // The choice is made once per resource and kept: a volume never moves between an image and a plain folder.
    'if [ ! -f "$vdir/quota" ]; then',
    '  if [ "$SUDO" = - ]; then echo "not enforced: the deploy user $(id -un) may not mount (not root, no password-less sudo)" > "$vdir/quota"',
    "  elif ! command -v losetup >/dev/null 2>&1 || ! command -v mkfs.ext4 >/dev/null 2>&1 || ! command -v resize2fs >/dev/null 2>&1 || ! command -v e2fsck >/dev/null 2>&1 || ! command -v dumpe2fs >/dev/null 2>&1; then",
    '    echo "not enforced: the host lacks losetup, mkfs.ext4, resize2fs or e2fsck" > "$vdir/quota"',
    "  else",
    // Probe once: a kernel or container may refuse loop mounts even to root.
    '    probe="$vdir/.probe"; rm -rf "$probe" "$probe.img"; mkdir "$probe"; truncate -s 8M "$probe.img"',
    '    if mkfs.ext4 -q -F "$probe.img" >/dev/null 2>&1 && $SUDO mount -o loop "$probe.img" "$probe" 2>"$vdir/.probe-error"; then',
    '      $SUDO umount "$probe"; echo enforced > "$vdir/quota"',
    '    else echo "not enforced: the host refuses loop mounts ($(head -c 200 "$vdir/.probe-error" | tr -d \'\\n"\\\\\'))" > "$vdir/quota"; fi',
    '    rm -rf "$probe" "$probe.img" "$vdir/.probe-error"',
    "  fi",
    "fi",
    'quota=$(cat "$vdir/quota")',
    "legacy=''",
  ];
  for (const [rawVolume, sizeMb] of Object.entries(plan.sizesMb)) {
    const volume = checkName(rawVolume);
    const bytes = Math.round(sizeMb) * 1024 * 1024;
    lines.push(
      `v=${volume}; img="$vdir/$v.img"; mnt="$vdir/$v"; name=${quote(`${plan.project}-${volume}`)}`,
      // A volume made before quotas existed (a plain Docker volume holding data) is kept as it is.
      `if [ "$quota" = enforced ] && docker volume inspect "$name" >/dev/null 2>&1 && [ "$(docker volume inspect -f '{{index .Options "device"}}' "$name")" != "$vdir/$v/data" ]; then`,
      '  legacy="$legacy $v"',
      'elif [ "$quota" = enforced ]; then',
      '  mkdir -p "$mnt"',
      // Sparse: the host's space is used as data is written, never beyond the size. No reserved blocks: the size is the size.
      `  if [ ! -f "$img" ]; then truncate -s ${bytes} "$img.new" && mkfs.ext4 -q -F -m 0 "$img.new" && mv "$img.new" "$img"; fi`,
      '  if ! mountpoint -q "$mnt"; then',
      // Never mount over files: they would be hidden, and were written outside the quota.
      '    if [ -n "$(ls -A "$mnt")" ]; then echo "$mnt is not empty and not mounted: refusing to mount over it" >&2; exit 1; fi',
      '    $SUDO mount -o loop "$img" "$mnt"',
      "  fi",
      // The file system's own size decides (an interrupted growth leaves a larger image around a smaller file system).
      // %.0f: awk prints a product past 2^31 as 1.07374e+10, which `[ -lt ]` refuses (a 10 GB volume never grew).
      `  fs=$(dumpe2fs -h "$img" 2>/dev/null | awk -F: '/^Block count/ {c=$2} /^Block size/ {s=$2} END {printf "%.0f", c * s}')`,
      `  if [ "$fs" -lt ${bytes} ]; then`,
      `    [ "$(stat -c %s "$img")" -ge ${bytes} ] || truncate -s ${bytes} "$img"`,
      '    dev=$(findmnt -n -o SOURCE --target "$mnt"); $SUDO losetup -c "$dev"',
      '    if ! $SUDO resize2fs "$dev" >"$vdir/.resize.log" 2>&1; then',
      // Online growth needs CAP_SYS_RESOURCE, which some hosts (sandboxes) withhold: then offline, with the volume's containers stopped a moment.
      '      echo "volume $v: online growth refused ($(grep -h "^resize2fs:" "$vdir/.resize.log" | tail -n 1)): growing it with its containers stopped"',
      '      ids=$(docker ps -q --filter "volume=$name"); [ -z "$ids" ] || docker stop -t 20 $ids >/dev/null',
      '      $SUDO umount "$mnt"; e2fsck -f -y "$img" >/dev/null 2>&1 || [ $? -le 1 ]; resize2fs "$img" >/dev/null 2>&1',
      '      $SUDO mount -o loop "$img" "$mnt"; [ -z "$ids" ] || docker start $ids >/dev/null',
      "    fi",
      '    rm -f "$vdir/.resize.log"',
      `    echo "volume $v grown to ${sizeMb} MB"`,
      "  fi",
      '  [ -d "$mnt/data" ] || $SUDO mkdir "$mnt/data"',
      `  docker volume inspect "$name" >/dev/null 2>&1 || docker volume create --driver local --opt type=none --opt o=bind --opt "device=$mnt/data" ${labelArgs} "$name" >/dev/null`,
      // Not enforced: a plain Docker volume, which Docker removes with everything in it.
      `elif ! docker volume inspect "$name" >/dev/null 2>&1; then docker volume create ${labelArgs} "$name" >/dev/null`,
      "fi",
    );
  }
  const sizes = JSON.stringify(Object.fromEntries(Object.entries(plan.sizesMb).map(([v, mb]) => [v, Math.round(mb)])));
  lines.push(
    `legacy_json=$(for v in $legacy; do printf ',"%s"' "$v"; done | sed 's/^,//')`,
    'if [ "$quota" = enforced ]; then',
    `  printf '%s{"quota":"enforced","method":"ext4 image per volume, loop-mounted","sizesMb":%s,"legacy":[%s]}\\n' ${quote(volumesStatusPrefix)} ${quote(sizes)} "$legacy_json"`,
    "else",
    `  printf '%s{"quota":"not enforced","reason":"%s","sizesMb":%s,"legacy":[%s]}\\n' ${quote(volumesStatusPrefix)} "\${quota#not enforced: }" ${quote(sizes)} "$legacy_json"`,
    "fi",
  );
  return lines;
}

/**
 * Unmounts and removes a project's volume images (after its containers and
 * Docker volumes are gone). Idempotent; a mount that cannot be undone stops
 * the removal (rm -rf would otherwise walk into it) and fails the script.
 */
export function removeVolumesLines(projectsDir: string, project: string): string[] {
  return [
    ...pickSudo,
    `vdir=${quote(volumesDir(projectsDir, project))}`,
    'if [ -d "$vdir" ]; then',
    '  busy=""',
    '  for m in "$vdir"/*/; do m=${m%/}; if mountpoint -q "$m" 2>/dev/null; then $SUDO umount "$m" 2>/dev/null || $SUDO umount -l "$m" || busy="$busy $m"; fi; done',
    '  if [ -z "$busy" ]; then rm -rf "$vdir"; else echo "could not unmount:$busy" >&2; fi',
    "fi",
  ];
}

/** Reads the ensure script's status line out of its output. */
export function parseVolumesStatus(stdout: string): VolumesStatus | undefined {
  const line = stdout
    .split("\n")
    .reverse()
    .find((l) => l.startsWith(volumesStatusPrefix));
  if (!line) return undefined;
  const status = JSON.parse(line.slice(volumesStatusPrefix.length)) as VolumesStatus;
  if (!status.legacy?.length) delete status.legacy;
  return status;
}

/**
 * Mounts again whatever image of the project is not mounted (after a reboot
 * of the host), then starts the project's containers that could not start
 * without them. Needs no sizes: run by a refresh. Idempotent.
 */
export function remountVolumesLines(projectsDir: string, project: string, projectLabel: string): string[] {
  return [
    "set -eu",
    ...pickSudo,
    `vdir=${quote(volumesDir(projectsDir, project))}`,
    'if [ -d "$vdir" ] && [ "$(cat "$vdir/quota" 2>/dev/null)" = enforced ]; then',
    "  mounted=''",
    '  for img in "$vdir"/*.img; do [ -f "$img" ] || continue; mnt=${img%.img}',
    '    if ! mountpoint -q "$mnt"; then $SUDO mount -o loop "$img" "$mnt"; mounted="$mounted ${mnt##*/}"; fi',
    "  done",
    `  if [ -n "$mounted" ]; then echo "mounted again:$mounted"; ids=$(docker ps -aq --filter ${quote(`label=${projectLabel}=${project}`)} --filter status=exited --filter status=created); [ -z "$ids" ] || docker start $ids >/dev/null; fi`,
    "fi",
  ];
}
