//! Deforum's 3D camera on a flat scene (its `animation_mode: "3D"` with depth warping off): the
//! frame is a plane at depth 1 seen by two perspective cameras, the still one and the one moved
//! by a frame's translation and rotation, and each pixel moves by the difference of where the
//! two see it. Deforum's definitions, kept here: translations are scaled by 1/200 (x and z
//! negated), rotations are Euler angles X then Y then Z applied to row vectors (`X R + T`), the
//! projection's scale is `1/tan(fov/2)` (divided by the aspect ratio across), the plane's points
//! are spaced from -1 to 1 corner to corner while the sampling grid's are pixel centres, and the
//! grid is sampled with `grid_sample` (bicubic, border by default); where Deforum is matched
//! (`transform::Resample::Deforum`) on 8-bit levels, truncated as Deforum's `astype(uint8)` truncates.
//! Near and far change only the projected depth, which a flat scene never reads.
use crate::error::Result;
use tch::{Kind, Tensor};

/// Deforum's `TRANSLATION_SCALE`: a translation of 200 moves the camera by the plane's half-width.
const TRANSLATION_SCALE: f64 = 1.0 / 200.0;

/// How the moved frame is read between pixels (Deforum's `sampling_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampling {
    #[default]
    Bicubic,
    Bilinear,
    Nearest,
}

/// What the camera sees beyond the frame (Deforum's `padding_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Padding {
    /// The edge pixels repeated.
    #[default]
    Border,
    /// The frame mirrored at its edges.
    Reflection,
    /// Black.
    Zeros,
}

/// One frame's camera move (the x and y translations are the motion's pan).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// Forward per frame, Deforum's `translation_z` (positive moves in).
    pub translate_z: f64,
    /// Degrees per frame about x, y and z (`rotation_3d_x`, `_y`, `_z`).
    pub rotate_degrees: [f64; 3],
    /// Vertical field of view, degrees (`fov`).
    pub fov: f64,
    /// The projection's aspect ratio (`aspect_ratio`; 1 in Deforum's default).
    pub aspect: f64,
    pub sampling: Sampling,
    pub padding: Padding,
}

impl Camera {
    /// Whether the move with `pan` (translation x, y) leaves every pixel where it is.
    pub(crate) fn is_still(&self, pan: (f64, f64)) -> bool {
        self.translate_z == 0.0 && self.rotate_degrees == [0.0; 3] && pan == (0.0, 0.0)
    }

    /// The sampling grid (1 x H x W x 2, `grid_sample`'s coordinates) of the move with `pan`.
    fn grid(&self, height: i64, width: i64, pan: (f64, f64), device: tch::Device) -> Result<Tensor> {
        let options = (Kind::Double, device);
        let [rx, ry, rz] = self.rotate_degrees.map(f64::to_radians);
        let rotation = multiply(&multiply(&axis_rotation(0, rx), &axis_rotation(1, ry)), &axis_rotation(2, rz));
        let translation =
            [-pan.0 * TRANSLATION_SCALE, pan.1 * TRANSLATION_SCALE, -self.translate_z * TRANSLATION_SCALE];
        let scale_y = 1.0 / (self.fov.to_radians() / 2.0).tan();
        let scale = [scale_y / self.aspect, scale_y];
        // The plane's points, corner to corner (`linspace(-1, 1)`), at depth 1.
        let plane_x = Tensor::f_linspace(-1.0, 1.0, width, options)?.f_view([1, width])?;
        let plane_y = Tensor::f_linspace(-1.0, 1.0, height, options)?.f_view([height, 1])?;
        // The moved camera's view of each point: (x, y, 1) R + T, a row vector.
        let view = |k: usize| -> Result<Tensor> {
            let part = plane_x.f_mul_scalar(rotation[0][k])?.f_add(&plane_y.f_mul_scalar(rotation[1][k])?)?;
            Ok(part.f_add_scalar(rotation[2][k] + translation[k])?)
        };
        let depth = view(2)?;
        // Pixel centres, as `affine_grid(align_corners=False)` places them.
        let centres = |n: i64| -> Result<Tensor> {
            Ok(Tensor::f_arange(n, options)?
                .f_mul_scalar(2.0)?
                .f_add_scalar(1.0)?
                .f_div_scalar(n as f64)?
                .f_sub_scalar(1.0)?)
        };
        let axis = |k: usize, plane: &Tensor, centre: Tensor| -> Result<Tensor> {
            let moved = view(k)?.f_div(&depth)?.f_mul_scalar(scale[k])?;
            let still = plane.f_mul_scalar(scale[k])?;
            Ok(centre.f_sub(&moved.f_sub(&still)?)?)
        };
        let grid_x = axis(0, &plane_x, centres(width)?.f_view([1, width])?)?.f_expand([height, width], false)?;
        let grid_y = axis(1, &plane_y, centres(height)?.f_view([height, 1])?)?.f_expand([height, width], false)?;
        Ok(Tensor::f_stack(&[grid_x, grid_y], 2)?.f_unsqueeze(0)?.f_to_kind(Kind::Float)?)
    }

    /// Moves `image` (N x 3 x H x W in [0, 1]) by the camera's move with `pan`; on Deforum's 8-bit
    /// levels when `deforum_levels`, else on the float levels as they are.
    pub(crate) fn apply(&self, image: &Tensor, pan: (f64, f64), deforum_levels: bool) -> Result<Tensor> {
        let size = image.size();
        let grid = self.grid(size[2], size[3], pan, image.device())?;
        let grid = grid.f_expand([size[0], size[2], size[3], 2], false)?.f_to_kind(image.kind())?;
        let mode = match self.sampling {
            Sampling::Bilinear => 0,
            Sampling::Nearest => 1,
            Sampling::Bicubic => 2,
        };
        let padding = match self.padding {
            Padding::Zeros => 0,
            Padding::Border => 1,
            Padding::Reflection => 2,
        };
        if !deforum_levels {
            // Bicubic overshoots at edges: kept within the levels.
            return Ok(image.f_grid_sampler_2d(&grid, mode, padding, false)?.f_clamp(0.0, 1.0)?);
        }
        // On Deforum's 8-bit scale, truncated back to it as its `astype(uint8)` does: each frame of
        // a 3D move loses half a level on average in Deforum, and so here (`--colors match`, the
        // default, restores the levels of a dream).
        let levels = image.f_mul_scalar(255.0)?.f_round()?;
        let moved = levels.f_grid_sampler_2d(&grid, mode, padding, false)?.f_clamp(0.0, 255.0)?;
        Ok(moved.f_floor()?.f_div_scalar(255.0)?)
    }
}

/// A 3 x 3 matrix acting on homogeneous pixel coordinates (column vectors).
pub(crate) type Matrix = [[f64; 3]; 3];

pub(crate) fn multiply(a: &Matrix, b: &Matrix) -> Matrix {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
}

/// The rotation by `angle` radians about axis 0 (x), 1 (y) or 2 (z), right-handed.
pub(crate) fn axis_rotation(axis: usize, angle: f64) -> Matrix {
    let (sin, cos) = angle.sin_cos();
    let (i, j) = [(1, 2), (2, 0), (0, 1)][axis];
    let mut m = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    (m[i][i], m[i][j], m[j][i], m[j][j]) = (cos, -sin, sin, cos);
    m
}
