//! Tiles for big frames: cells that cover the image once, each read through a crop of one shape
//! with a margin of context, their borders shifted at random each step so no seam stays put.
use rand::Rng;

/// Pixels (crops x height x width) batched into one forward pass of a tiled ascent on CUDA: 4
/// tiles of 1024 + margins. It bounds the activations kept for the backward pass to a few GB
/// while feeding the GPU batches big enough to keep it busy (it is launch-bound on small ones).
pub(crate) const TILE_BATCH_PIXELS_CUDA: i64 = 4 * 1280 * 1280;

/// The same on the CPU: one 1024 tile with its margins, because there `--tile` is chosen to bound
/// memory (2.6 GB against 8.2 GB for a 4K frame) and one such crop already keeps every core busy.
pub(crate) const TILE_BATCH_PIXELS_CPU: i64 = 1280 * 1280;

/// One tile of a tiled step: the cell whose gradient it gives, and where its crop starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tile {
    /// Rows `cell_y.0..cell_y.1` and columns `cell_x.0..cell_x.1` of the image.
    pub cell_y: (i64, i64),
    pub cell_x: (i64, i64),
    /// Top-left corner of the crop (of the plan's crop size) that holds the cell and its margin.
    pub crop_y: i64,
    pub crop_x: i64,
}

/// The tiles of one step: cells that cover the image once, and one crop size for all.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TilePlan {
    /// Height and width of every crop.
    pub crop: (i64, i64),
    pub tiles: Vec<Tile>,
}

/// Splits an image into cells of at most `tile` pixels a side, each read through a crop of the
/// tile plus a margin of context each side, slid inward at the image's edges. The number of cells
/// per axis depends only on the size (`length / tile + 1`, so they are smaller than `tile` and
/// leave room to move), and their borders shift together by a random amount each step.
pub(crate) fn tile_plan(height: i64, width: i64, tile: i64, rng: &mut impl Rng) -> TilePlan {
    let margin = (tile / 8).max(16);
    let (rows, crop_height) = axis_plan(height, tile, margin, rng);
    let (columns, crop_width) = axis_plan(width, tile, margin, rng);
    let mut tiles = Vec::with_capacity(rows.len() * columns.len());
    for &(cell_y, crop_y) in &rows {
        for &(cell_x, crop_x) in &columns {
            tiles.push(Tile { cell_y, cell_x, crop_y, crop_x });
        }
    }
    TilePlan { crop: (crop_height, crop_width), tiles }
}

/// A cell's span on one axis, and where its crop starts.
type AxisCell = ((i64, i64), i64);

/// One axis of [`tile_plan`]: the cells with their crops' starts, and the crop length.
fn axis_plan(length: i64, tile: i64, margin: i64, rng: &mut impl Rng) -> (Vec<AxisCell>, i64) {
    if length <= tile {
        return (vec![((0, length), 0)], length);
    }
    let count = length / tile + 1;
    let pitch = length as f64 / count as f64;
    // Cells stay within `tile` (the outer two change size with the shift) and the shift spans a
    // whole pitch, so over steps a border may fall anywhere.
    let reach = (tile as f64 - pitch).min(pitch / 2.0).floor() as i64;
    let shift = if reach > 0 { rng.random_range(-reach..=reach) } else { 0 };
    let crop = (tile + 2 * margin).min(length);
    let mut cuts: Vec<i64> = (1..count).map(|k| (k as f64 * pitch).round() as i64 + shift).collect();
    cuts.insert(0, 0);
    cuts.push(length);
    let cells = cuts
        .windows(2)
        .map(|w| {
            let centre = (w[0] + w[1]) / 2;
            ((w[0], w[1]), (centre - crop / 2).clamp(0, length - crop))
        })
        .collect();
    (cells, crop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use std::collections::BTreeSet;

    #[test]
    fn every_cell_is_covered_once_by_a_crop_of_one_shape_with_its_margin() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (height, width, tile) in [(300, 500, 128), (2160, 3840, 1024), (100, 70, 64), (1081, 1920, 512)] {
            let mut counts = BTreeSet::new();
            for _ in 0..50 {
                let plan = tile_plan(height, width, tile, &mut rng);
                counts.insert(plan.tiles.len());
                let mut covered = vec![0u8; (height * width) as usize];
                for t in &plan.tiles {
                    assert!(t.cell_y.1 - t.cell_y.0 <= tile && t.cell_x.1 - t.cell_x.0 <= tile, "{t:?}");
                    assert!(t.crop_y >= 0 && t.crop_y + plan.crop.0 <= height, "{t:?}");
                    assert!(t.crop_x >= 0 && t.crop_x + plan.crop.1 <= width, "{t:?}");
                    assert!(t.crop_y <= t.cell_y.0 && t.cell_y.1 <= t.crop_y + plan.crop.0, "{t:?}");
                    assert!(t.crop_x <= t.cell_x.0 && t.cell_x.1 <= t.crop_x + plan.crop.1, "{t:?}");
                    for y in t.cell_y.0..t.cell_y.1 {
                        for x in t.cell_x.0..t.cell_x.1 {
                            covered[(y * width + x) as usize] += 1;
                        }
                    }
                }
                assert!(covered.iter().all(|&c| c == 1), "{height}x{width} tile {tile}: not covered once");
            }
            assert_eq!(counts.len(), 1, "{height}x{width}: the tile count must not depend on the shift");
        }
    }
}
