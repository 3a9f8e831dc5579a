"""Reads every format of a PathoGait export with the field's own readers and checks it.

Usage: python check_exports.py EXPORT_DIR EXPECTED_JSON

EXPECTED_JSON (written by tests/field_readers.rs) lists per walk: id, frames, fps, the rig's
joint names, its files and its events as (context, label, frame). Checks:
- C3D in ezc3d and in the `c3d` package: frame count, rate, labels, units, events (contexts,
  labels, times = frame / rate) and positions equal to the npz within 0.5 mm;
- npz with numpy.load: dtypes, shapes and names;
- BVH with the `bvh` package: frame count, frame time, joint names and channel order.
Prints one line per check; exits non-zero at the first failure.
"""

import json
import sys
import warnings

import bvh
import c3d
import ezc3d
import numpy as np

warnings.filterwarnings("ignore", message="No analog data found in file.")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def check_npz(path, walks):
    z = np.load(path)
    n = len(walks)
    want = {
        "positions": np.float32,
        "lengths": np.int32,
        "fps": np.float32,
        "labels": np.int32,
        "subjects": np.int32,
        "synthetic": np.int32,
    }
    for name, dtype in want.items():
        check(z[name].dtype == dtype, f"npz {name}: dtype {z[name].dtype}, want {dtype}")
    t = max(w["frames"] for w in walks)
    j = len(walks[0]["joints"])
    check(z["positions"].shape == (n, t, j, 3), f"npz positions shape {z['positions'].shape}")
    for name in ("ids", "label_names", "subject_names", "joint_names"):
        check(z[name].dtype.kind == "U", f"npz {name}: dtype {z[name].dtype}, want unicode")
    check(list(z["ids"]) == [w["id"] for w in walks], "npz ids")
    check(list(z["joint_names"]) == walks[0]["joints"], "npz joint_names")
    check(list(z["lengths"]) == [w["frames"] for w in walks], "npz lengths")
    print(f"ok numpy.load {path}: {n} walks, positions {z['positions'].shape} float32")
    return z


def check_events(what, contexts, labels, times, rate, walk):
    got = sorted(
        (c.strip(), l.strip(), int(round(float(t) * rate))) for c, l, t in zip(contexts, labels, times)
    )
    want = sorted(tuple(e) for e in walk["events"])
    check(len(got) == len(want) and len(want) > 0, f"{what}: {len(got)} events, want {len(want)}")
    check(got == want, f"{what}: events {got[:4]}..., want {want[:4]}...")
    exact = all(abs(float(t) * rate - round(float(t) * rate)) < 1e-3 for t in times)
    check(exact, f"{what}: event times do not fall on frames (frame / rate)")


def check_c3d_ezc3d(path, walk, npz_pos):
    c = ezc3d.c3d(path)
    p = c["parameters"]
    pts = c["data"]["points"]
    check(pts.shape == (4, len(walk["joints"]), walk["frames"]), f"ezc3d {path}: shape {pts.shape}")
    check(abs(p["POINT"]["RATE"]["value"][0] - walk["fps"]) < 1e-3, f"ezc3d {path}: rate")
    check(list(p["POINT"]["LABELS"]["value"]) == walk["joints"], f"ezc3d {path}: labels")
    check(p["POINT"]["UNITS"]["value"][0] == "mm", f"ezc3d {path}: units")
    ev = p["EVENT"]
    check(ev["USED"]["value"][0] == len(walk["events"]), f"ezc3d {path}: EVENT:USED")
    times = ev["TIMES"]["value"]
    check(np.all(times[0] == 0), f"ezc3d {path}: event minutes")
    check_events(f"ezc3d {path}", ev["CONTEXTS"]["value"], ev["LABELS"]["value"], times[1], walk["fps"], walk)
    xyz = np.transpose(pts[:3], (2, 1, 0)) / 1000.0
    residuals = c["data"]["meta_points"]["residuals"][0].T
    missing = np.isnan(npz_pos).any(axis=-1)
    check(np.array_equal(residuals < 0, missing), f"ezc3d {path}: invalid residuals != missing samples")
    check(np.all(np.isnan(xyz[missing])), f"ezc3d {path}: missing samples are not NaN")
    err = np.nanmax(np.abs(xyz - npz_pos))
    check(err < 0.0005, f"ezc3d {path}: positions differ from the npz by {err * 1000:.3f} mm")
    print(
        f"ok ezc3d {path}: {pts.shape[2]} frames at {walk['fps']} Hz, {len(walk['events'])} events, "
        f"{missing.sum()} missing samples flagged, max diff {err * 1000:.4f} mm"
    )


def check_c3d_package(path, walk, npz_pos):
    with open(path, "rb") as h:
        r = c3d.Reader(h)
        check(r.point_used == len(walk["joints"]), f"c3d {path}: point_used {r.point_used}")
        check(abs(r.point_rate - walk["fps"]) < 1e-3, f"c3d {path}: rate {r.point_rate}")
        labels = [l.strip() for l in r.point_labels]
        check(labels == walk["joints"], f"c3d {path}: labels {labels[:3]}")
        check(r.get("POINT:UNITS").string_value.strip() == "mm", f"c3d {path}: units")
        read = [pts.copy() for _, pts, _ in r.read_frames()]
        frames = [p[:, :3] for p in read]
        invalid = np.stack([p[:, 3] < 0 for p in read])
        check(np.array_equal(invalid, np.isnan(npz_pos).any(axis=-1)), f"c3d {path}: invalid residuals != missing samples")
        check(len(frames) == walk["frames"], f"c3d {path}: {len(frames)} frames")
        check(r.last_frame - r.first_frame + 1 == walk["frames"], f"c3d {path}: header frame range")
        times = r.get("EVENT:TIMES").float_array
        check_events(
            f"c3d {path}",
            r.get("EVENT:CONTEXTS").string_array,
            r.get("EVENT:LABELS").string_array,
            times[:, 1],
            walk["fps"],
            walk,
        )
    xyz = np.stack(frames) / 1000.0
    xyz[invalid] = np.nan
    err = np.nanmax(np.abs(xyz - npz_pos))
    check(err < 0.0005, f"c3d {path}: positions differ from the npz by {err * 1000:.3f} mm")
    print(f"ok c3d {path}: {len(frames)} frames, labels, units, events, max diff {err * 1000:.4f} mm")


def check_bvh(path, walk):
    with open(path) as h:
        m = bvh.Bvh(h.read())
    check(m.nframes == walk["frames"], f"bvh {path}: {m.nframes} frames")
    check(abs(m.frame_time - 1.0 / walk["fps"]) < 1e-5, f"bvh {path}: frame time {m.frame_time}")
    names = m.get_joints_names()
    check(names == walk["bvh_joints"], f"bvh {path}: joints {names[:4]}")
    root = ["Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation"]
    check(m.joint_channels(names[0]) == root, f"bvh {path}: root channels")
    for j in names[1:]:
        check(m.joint_channels(j) == root[3:], f"bvh {path}: {j} channels {m.joint_channels(j)}")
    print(f"ok bvh {path}: {m.nframes} frames, frame time {m.frame_time:.6f}, {len(names)} joints")


def main():
    out, expected = sys.argv[1], sys.argv[2]
    with open(expected) as h:
        walks = json.load(h)["walks"]
    z = check_npz(f"{out}/dataset.npz", walks)
    for i, w in enumerate(walks):
        pos = z["positions"][i, : w["frames"]]
        for f in w["files"]:
            path = f"{out}/{f}"
            if f.endswith(".c3d"):
                check_c3d_ezc3d(path, w, pos)
                check_c3d_package(path, w, pos)
            elif f.endswith(".bvh"):
                check_bvh(path, w)
    print(f"all readers agree on {len(walks)} walks")


if __name__ == "__main__":
    main()
