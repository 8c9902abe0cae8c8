#!/usr/bin/env python3
"""The Kubernetes manifests of deploy/k8s/, checked offline (no cluster runs
here): the sweep is an Indexed Job whose completions, parallelism and
BIOFED_SHARDS agree, the merge Job has the same N and volume, the commands
are scripts the image holds, every variable the manifests set is one the
scripts read, and the entry point, run for every JOB_COMPLETION_INDEX with
the manifest's environment (and --dry-run), covers the preset's plan:
the shards' cells add up to the whole.

Usage: k8s_manifest_test.py BIOFED SOURCE_DIR"""
import os
import re
import subprocess
import sys

import yaml


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def container(job):
    return job["spec"]["template"]["spec"]["containers"][0]


def env_of(job):
    return {e["name"]: e["value"] for e in container(job).get("env", [])}


def cells_of(output):
    match = re.search(r"^(\d+) attack cells", output, re.M)
    if not match:
        fail(f"no cell count in: {output}")
    return int(match.group(1))


def main():
    biofed, source = os.path.abspath(sys.argv[1]), sys.argv[2]
    k8s = os.path.join(source, "deploy", "k8s")
    sweep = yaml.safe_load(open(os.path.join(k8s, "sweep-indexed-job.yaml")))
    merge = yaml.safe_load(open(os.path.join(k8s, "merge-job.yaml")))
    dockerfile = open(os.path.join(source, "deploy", "Dockerfile")).read()

    spec = sweep["spec"]
    if sweep["kind"] != "Job" or spec.get("completionMode") != "Indexed":
        fail("the sweep is not an Indexed Job")
    env = env_of(sweep)
    shards = int(env["BIOFED_SHARDS"])
    if not spec["completions"] == spec["parallelism"] == shards:
        fail(f"completions {spec['completions']}, parallelism {spec['parallelism']}, BIOFED_SHARDS {shards} differ")
    if int(env_of(merge)["BIOFED_SHARDS"]) != shards:
        fail("the merge Job's BIOFED_SHARDS differs from the sweep's")
    for job in (sweep, merge):
        mounts = {m["name"]: m["mountPath"] for m in container(job)["volumeMounts"]}
        claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in job["spec"]["template"]["spec"]["volumes"]}
        if mounts.get("studies") != env_of(job)["BIOFED_STUDIES"] or claims.get("studies") != "biofed-studies":
            fail(f"{job['metadata']['name']}: BIOFED_STUDIES is not the mounted studies volume")
        command = container(job)["command"][0]
        script = os.path.basename(command)
        if not command.startswith("/usr/local/lib/biofed/") or f"deploy/{script}" not in dockerfile:
            fail(f"{command} is not a script the image holds")
        text = open(os.path.join(source, "deploy", script)).read()
        for name in env_of(job):
            if name not in text:
                fail(f"{script} does not read {name}")

    preset = env["BIOFED_PRESET"]
    whole = subprocess.run([biofed, "sweep", "--preset", preset, "--dry-run"], capture_output=True, text=True, check=True)
    total = 0
    for index in range(shards):
        run_env = dict(os.environ)
        run_env.update(env)  # the manifest's, BIOFED_STUDIES too: --dry-run writes nothing
        run_env.update(JOB_COMPLETION_INDEX=str(index), BIOFED=biofed)
        run_env.pop("SLURM_ARRAY_TASK_ID", None)
        shard = subprocess.run([os.path.join(source, "deploy", "sweep-shard.sh"), "--dry-run"], env=run_env,
                               capture_output=True, text=True)
        if shard.returncode != 0:
            fail(f"sweep-shard.sh for index {index}: {shard.stderr}")
        total += cells_of(shard.stdout)
    if total != cells_of(whole.stdout):
        fail(f"the {shards} shards hold {total} cells, the {preset} preset {cells_of(whole.stdout)}")
    print(f"ok: Indexed Job of {shards} shards covers the {preset} preset's {total} cells; merge Job agrees")


if __name__ == "__main__":
    main()
