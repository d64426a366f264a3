#!/usr/bin/env python3
"""Deforum's motion, computed from its definitions, for tests/it/motion.rs.

For each case below: a synthetic input (the formula tests/it/motion.rs writes too) is moved
frame by frame as Deforum's source defines its warps, on uint8 frames as Deforum keeps them:
  2D: OpenCV getRotationMatrix2D((W*cx, H*cy), angle, zoom) times the translation, or, with the
      perspective flip on, the flip's homography times the rotation only (Deforum passes the
      translation as np.matmul's `out`), through cv2.warpPerspective(INTER_LINEAR,
      BORDER_REPLICATE or BORDER_WRAP);
  3D: the plane z=1 seen by two FoV perspective cameras (translation/200, x and z negated,
      Euler XYZ rotation on row vectors, projection 1/tan(fov/2) over the aspect ratio), the
      offset subtracted from affine_grid's pixel centres, torch grid_sample (bicubic, border),
      clamped and truncated to uint8 as Deforum's astype does.
The last frame, blurred (sigma 1.5) and halved, is saved as a 16-bit PNG with the case's Deforum
settings file. Needs numpy, opencv-python-headless 4.x (5.1 rounds warpPerspective's positions
otherwise: up to 0.7/255 off at slow_zoom) and torch (CPU):
    python scripts/motion_reference.py tests/fixtures/motion
"""
import json, math, os, sys
import cv2
import numpy as np

CASES = [
    # name, W, H, frames, Deforum keys
    ("slow_zoom", 512, 288, 30, {"zoom": "0: (1.0025)"}),
    ("odd_size", 301, 167, 20, {"zoom": "0: (1.03)"}),
    ("fast_zoom", 320, 180, 20, {"zoom": "0: (1.04)"}),
    ("sine_zoom", 512, 512, 30, {"zoom": "0: (1.0025+0.002*sin(1.25*3.14*t/30))"}),
    ("rotate", 320, 180, 20, {"zoom": "0: (1.0)", "angle": "0: (1.5)"}),
    ("pan", 320, 180, 20, {"zoom": "0: (1.0)", "translation_x": "0: (2)", "translation_y": "0: (-1)"}),
    ("zoom_out", 320, 180, 20, {"zoom": "0: (0.97)"}),
    ("zoom_out_rotate_pan", 320, 180, 20, {"zoom": "0: (0.99)", "angle": "0: (1.5)", "translation_x": "0: (2)", "translation_y": "0: (-1)"}),
    ("centre", 320, 180, 20, {"zoom": "0: (1.03)", "transform_center_x": "0: (0.25)", "transform_center_y": "0: (0.4)"}),
    ("wrap", 320, 180, 20, {"zoom": "0: (1.0)", "angle": "0: (0.5)", "translation_x": "0: (3)", "translation_y": "0: (-2)", "border": "wrap"}),
    ("perspective_flip", 320, 180, 10, {"zoom": "0: (1.01)", "translation_x": "0: (4)", "enable_perspective_flip": True,
        "perspective_flip_theta": "0: (1)", "perspective_flip_phi": "0: (2)", "perspective_flip_gamma": "0: (1.5)", "perspective_flip_fv": "0: (53)"}),
    ("dolly_3d", 320, 180, 30, {"animation_mode": "3D", "translation_z": "0: (1.75)", "zoom": "0: (1.5)", "angle": "0: (30)"}),
    ("rotate_3d", 320, 180, 20, {"animation_mode": "3D", "translation_x": "0: (1)", "translation_z": "0: (2)",
        "rotation_3d_x": "0: (0.3)", "rotation_3d_y": "0: (-0.5)", "rotation_3d_z": "0: (0.7)", "fov_schedule": "0: (60)"}),
]

DEFAULTS = {"zoom": "0: (1.0)", "angle": "0: (0)", "translation_x": "0: (0)", "translation_y": "0: (0)",
            "translation_z": "0: (0)", "rotation_3d_x": "0: (0)", "rotation_3d_y": "0: (0)", "rotation_3d_z": "0: (0)",
            "transform_center_x": "0: (0.5)", "transform_center_y": "0: (0.5)", "fov_schedule": "0: (70)",
            "aspect_ratio_schedule": "0: (1)", "perspective_flip_theta": "0: (0)", "perspective_flip_phi": "0: (0)",
            "perspective_flip_gamma": "0: (0)", "perspective_flip_fv": "0: (53)", "border": "replicate",
            "animation_mode": "2D", "enable_perspective_flip": False, "use_depth_warping": False}


def value(schedule, t):
    """The cases' schedules are one keyframe at 0: its expression at frame t."""
    expression = schedule.split(":", 1)[1].strip()
    return float(eval(expression, {"sin": math.sin, "cos": math.cos, "t": t}))


def synthetic(width, height):
    """The input both sides render from (tests/it/motion.rs writes the same formula)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    channels = []
    for c in range(3):
        v = (128 + 50 * np.sin(0.11 * x + 0.07 * y + c) + 35 * np.sin(0.031 * (1 + 0.3 * c) * x - 0.053 * y)
             + 25 * np.cos(0.017 * (c + 1) * (x - y)))
        disc = (x - 0.3 * width) ** 2 + (y - 0.4 * height) ** 2 < (0.15 * height) ** 2
        v = v + np.where(disc, 60.0 - 40.0 * c, 0.0)
        channels.append(np.clip(np.floor(v + 0.5), 0, 255))
    return np.stack(channels, axis=2).astype(np.uint8)


def blurred_half(image):
    """Blur with sigma 1.5 (11 taps, edges repeated), then average 2x2 blocks (tests/it/motion.rs: the same)."""
    taps = np.exp(-0.5 * (np.arange(-5, 6) / 1.5) ** 2)
    taps /= taps.sum()
    f = image.astype(np.float64) / 255.0
    padded = np.pad(f, ((5, 5), (0, 0), (0, 0)), mode="edge")
    f = sum(taps[k] * padded[k:k + f.shape[0]] for k in range(11))
    padded = np.pad(f, ((0, 0), (5, 5), (0, 0)), mode="edge")
    f = sum(taps[k] * padded[:, k:k + f.shape[1]] for k in range(11))
    h, w = f.shape[0] // 2 * 2, f.shape[1] // 2 * 2
    f = f[:h, :w]
    return (f[0::2, 0::2] + f[1::2, 0::2] + f[0::2, 1::2] + f[1::2, 1::2]) / 4


def axis(angle, k):
    c, s = math.cos(angle), math.sin(angle)
    m = np.eye(3)
    i, j = [(1, 2), (2, 0), (0, 1)][k]
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def flip_matrix(W, H, theta, phi, gamma, fv):
    """Deforum's perspective flip: the frame's four corners on the plane, rotated (x by phi, y by
    gamma, z by theta), moved back by h, projected with an OpenGL perspective of fv degrees, mapped
    into a square of side d/cos(fv/2); the homography of those four points, after a shift."""
    half = math.radians(fv / 2)
    d = math.hypot(W, H)
    side = d / math.cos(half)
    h = d / (2 * math.sin(half))
    R = axis(math.radians(phi), 0) @ axis(math.radians(gamma), 1) @ axis(math.radians(theta), 2)
    corners = np.array([[-W / 2, H / 2, 0], [W / 2, H / 2, 0], [W / 2, -H / 2, 0], [-W / 2, -H / 2, 0]])
    camera = corners @ R.T + [0, 0, -h]
    ndc = camera[:, :2] / math.tan(half) / -camera[:, 2:3]
    source = (corners[:, :2] + [W / 2, H / 2]).astype(np.float32)
    target = ((ndc + 1) * 0.5 * side).astype(np.float32)
    M = cv2.getPerspectiveTransform(source, target)
    return M @ np.array([[1, 0, (W - side) / 2], [0, 1, (H - side) / 2], [0, 0, 1]])


def warp_2d(image, keys, t):
    H, W = image.shape[:2]
    centre = (W * value(keys["transform_center_x"], t), H * value(keys["transform_center_y"], t))
    rotation = np.vstack([cv2.getRotationMatrix2D(centre, value(keys["angle"], t), value(keys["zoom"], t)), [0, 0, 1]])
    if keys["enable_perspective_flip"]:
        flip = [value(keys[f"perspective_flip_{k}"], t) for k in ("theta", "phi", "gamma", "fv")]
        matrix = flip_matrix(W, H, *flip) @ rotation
    else:
        shift = np.array([[1, 0, value(keys["translation_x"], t)], [0, 1, value(keys["translation_y"], t)], [0, 0, 1]])
        matrix = rotation @ shift
    border = cv2.BORDER_WRAP if keys["border"] == "wrap" else cv2.BORDER_REPLICATE
    return cv2.warpPerspective(image, matrix, (W, H), flags=cv2.INTER_LINEAR, borderMode=border)


def warp_3d(image, keys, t, truncate=True):
    import torch
    import torch.nn.functional as F
    H, W = image.shape[:2]
    translate = [-value(keys["translation_x"], t) / 200, value(keys["translation_y"], t) / 200,
                 -value(keys["translation_z"], t) / 200]
    rx, ry, rz = (math.radians(value(keys[f"rotation_3d_{a}"], t)) for a in "xyz")
    R = axis(rx, 0) @ axis(ry, 1) @ axis(rz, 2)
    scale_y = 1 / math.tan(math.radians(value(keys["fov_schedule"], t)) / 2)
    scale = np.array([scale_y / value(keys["aspect_ratio_schedule"], t), scale_y])
    py, px = np.meshgrid(np.linspace(-1, 1, H, dtype=np.float32), np.linspace(-1, 1, W, dtype=np.float32), indexing="ij")
    points = np.stack([px.ravel(), py.ravel(), np.ones(H * W, np.float32)], axis=1)
    view = points @ R + translate
    moved = view[:, :2] / view[:, 2:3] * scale
    still = points[:, :2] * scale
    offset = torch.tensor((moved - still).reshape(1, H, W, 2), dtype=torch.float32)
    grid = F.affine_grid(torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]), [1, 1, H, W], align_corners=False) - offset
    tensor = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None]
    out = F.grid_sample(tensor, grid, mode="bicubic", padding_mode="border", align_corners=False)
    out = out[0].permute(1, 2, 0).clamp(0, 255).numpy()
    return out.astype(np.uint8) if truncate else np.floor(out + 0.5).astype(np.uint8)


def render(W, H, frames, keys, truncate=True):
    image = synthetic(W, H)
    for t in range(1, frames):
        image = warp_3d(image, keys, t, truncate) if keys["animation_mode"] == "3D" else warp_2d(image, keys, t)
    return image


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/motion"
    os.makedirs(out, exist_ok=True)
    for name, W, H, frames, keys in CASES:
        settings = {"W": W, "H": H, "max_frames": frames, "fps": 15, **{k: v for k, v in DEFAULTS.items() if k in
                    ("animation_mode", "border", "use_depth_warping", "enable_perspective_flip")}, **keys}
        with open(os.path.join(out, f"{name}.json"), "w") as f:
            json.dump(settings, f, indent=1)
        last = render(W, H, frames, {**DEFAULTS, **keys})
        half = blurred_half(last)
        cv2.imwrite(os.path.join(out, f"{name}.png"), np.floor(half[:, :, ::-1] * 65535 + 0.5).astype(np.uint16))
        note = ""
        if keys.get("animation_mode") == "3D":
            rounded = blurred_half(render(W, H, frames, {**DEFAULTS, **keys}, truncate=False))
            note = f"; rounding instead of truncating would differ by {np.abs(rounded - half).mean() * 255:.2f}/255"
        print(f"{name}: {W}x{H}, {frames} frames{note}")


if __name__ == "__main__":
    main()
