//! Horizontal bar charts, drawn on the server as inline SVG: the Content-Security-Policy allows no
//! script and no style attribute, so every coordinate is computed here and the template
//! (`templates/chart.html`, macro `bar_chart`) only writes them out; colours come from classes in the
//! stylesheet. A page builds a [`BarChart`] from rows of values and shows the same numbers in a table
//! beside it, for screen readers and for people who prefer figures.
//!
//! Values are integers (fen, days, counts); a float is used only to place pixels, never for money.

/// The drawing's width in SVG units; the stylesheet scales it to the card.
const WIDTH: i64 = 640;
/// The column of row labels, left of the bars.
const LABEL_WIDTH: i64 = 170;
/// Room right of the longest bar for its value.
const VALUE_WIDTH: i64 = 120;
/// What the longest bar may span.
const BAR_AREA: i64 = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
const BAR_HEIGHT: i64 = 16;
/// Between the bars of one row, and between rows.
const BAR_GAP: i64 = 2;
const ROW_GAP: i64 = 10;
/// The band above the bars that holds the legend or the goal's label, when there is one.
const TOP_BAND: i64 = 22;
const EDGE: i64 = 4;
/// A value above zero is never drawn thinner than this, so that it stays visible beside a large one.
const BAR_MIN: i64 = 2;
/// Legend entries are this far apart.
const LEGEND_STEP: i64 = 150;
/// Row labels longer than this (a CJK character counts two, as it is drawn about twice as wide) are cut
/// with an ellipsis; the full label is the text's tooltip and is in the table.
const LABEL_UNITS_MAX: usize = 24;

/// One series of a chart (one bar per row), named in the legend, coloured by its class.
pub struct Series {
    pub name: String,
    /// `bar-s0`, `bar-s1`, `bar-s2` in the stylesheet.
    pub class: &'static str,
}

impl Series {
    pub fn new(name: &str, index: usize) -> Series {
        const CLASSES: [&str; 3] = ["bar-s0", "bar-s1", "bar-s2"];
        Series { name: name.to_string(), class: CLASSES[index % CLASSES.len()] }
    }
}

/// One value to draw: its size (fen, days …), the text written beside the bar, and whether it needs the
/// reader's attention (drawn in the warning colour).
pub struct Value {
    pub size: i64,
    pub text: String,
    pub warn: bool,
}

impl Value {
    pub fn new(size: i64, text: String) -> Value {
        Value { size, text, warn: false }
    }
}

/// One row of a chart: a label and one value per series.
pub struct Row {
    pub label: String,
    pub values: Vec<Value>,
}

/// A mark the values are measured against (the ten-working-day service goal): a vertical line.
pub struct Goal {
    pub size: i64,
    pub label: String,
}

/// A drawn bar: where it starts (`x`, `y`), how wide, its class and the value written after it.
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    pub class: &'static str,
    pub value: String,
    pub value_x: i64,
    pub value_y: i64,
}

/// A row's label: the full text, the text drawn, and its baseline.
pub struct Label {
    pub text: String,
    pub short: String,
    pub x: i64,
    pub y: i64,
}

pub struct GoalLine {
    pub x: i64,
    pub y1: i64,
    pub y2: i64,
    pub label: String,
    pub label_y: i64,
}

pub struct LegendItem {
    pub name: String,
    pub class: &'static str,
    pub x: i64,
    pub y: i64,
    pub text_x: i64,
    pub text_y: i64,
}

/// A chart ready to draw: every coordinate in SVG units of a `width` × `height` view box.
pub struct BarChart {
    /// The SVG's `id`; its title's is `{id}-title`.
    pub id: &'static str,
    pub title: String,
    pub width: i64,
    pub height: i64,
    pub labels: Vec<Label>,
    pub bars: Vec<Bar>,
    pub goal: Option<GoalLine>,
    pub legend: Vec<LegendItem>,
}

impl BarChart {
    /// Lays out `rows` (each with one value per series) on a common scale, the largest value (or the
    /// goal, if larger) spanning the whole bar area. A legend is drawn when there are several series.
    pub fn new(id: &'static str, title: String, series: &[Series], rows: &[Row], goal: Option<Goal>) -> BarChart {
        let largest = rows.iter().flat_map(|r| r.values.iter().map(|v| v.size)).chain(goal.iter().map(|g| g.size));
        let scale = largest.max().unwrap_or(0).max(0);
        let banded = series.len() > 1 || goal.is_some();
        let top = if banded { TOP_BAND } else { EDGE };
        let per_row = series.len().max(1) as i64;
        let row_height = per_row * BAR_HEIGHT + (per_row - 1) * BAR_GAP;
        let mut labels = Vec::with_capacity(rows.len());
        let mut bars = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let y0 = top + i as i64 * (row_height + ROW_GAP);
            labels.push(Label {
                text: row.label.clone(),
                short: shorten(&row.label),
                x: LABEL_WIDTH - 8,
                y: y0 + row_height / 2 + 4,
            });
            for (j, v) in row.values.iter().enumerate() {
                let class = if v.warn { "bar-warn" } else { series.get(j).map_or("bar-s0", |s| s.class) };
                let y = y0 + j as i64 * (BAR_HEIGHT + BAR_GAP);
                let width = length(v.size, scale);
                bars.push(Bar {
                    x: LABEL_WIDTH,
                    y,
                    width,
                    height: BAR_HEIGHT,
                    class,
                    value: v.text.clone(),
                    value_x: LABEL_WIDTH + width + 6,
                    value_y: y + BAR_HEIGHT - 4,
                });
            }
        }
        let bottom = top + rows.len() as i64 * (row_height + ROW_GAP) - ROW_GAP + EDGE;
        let height = bottom.max(top + EDGE);
        let goal = goal.map(|g| GoalLine {
            x: LABEL_WIDTH + length(g.size, scale),
            y1: top - 4,
            y2: height,
            label: g.label,
            label_y: top - 8,
        });
        let legend = if series.len() > 1 { legend(series) } else { Vec::new() };
        BarChart { id, title, width: WIDTH, height, labels, bars, goal, legend }
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

fn legend(series: &[Series]) -> Vec<LegendItem> {
    series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let x = LABEL_WIDTH + i as i64 * LEGEND_STEP;
            LegendItem { name: s.name.clone(), class: s.class, x, y: 4, text_x: x + 14, text_y: 14 }
        })
        .collect()
}

/// A value's bar length in SVG units on a scale whose largest value spans the bar area.
fn length(size: i64, scale: i64) -> i64 {
    if size <= 0 || scale <= 0 {
        return 0;
    }
    // Pixels only: the ratio of two integers placed on a 360-unit axis.
    let exact = size as f64 / scale as f64 * BAR_AREA as f64;
    (exact.round() as i64).clamp(BAR_MIN, BAR_AREA)
}

/// The label as drawn: cut with an ellipsis when it would run into the bars.
fn shorten(label: &str) -> String {
    let mut units = 0;
    let mut out = String::new();
    for c in label.chars() {
        units += if c.is_ascii() { 1 } else { 2 };
        if units > LABEL_UNITS_MAX {
            out.push('…');
            return out;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, sizes: &[i64]) -> Row {
        Row { label: label.into(), values: sizes.iter().map(|s| Value::new(*s, s.to_string())).collect() }
    }

    #[test]
    fn the_largest_value_spans_the_bar_area_and_the_others_scale_with_it() {
        let c = BarChart::new("c", "t".into(), &[Series::new("a", 0)], &[row("x", &[400]), row("y", &[200])], None);
        let widths: Vec<i64> = c.bars.iter().map(|b| b.width).collect();
        assert_eq!(widths, vec![BAR_AREA, BAR_AREA / 2]);
        assert_eq!(c.bars[1].y - c.bars[0].y, BAR_HEIGHT + ROW_GAP, "one bar per row");
        assert_eq!(c.bars[0].value_x, LABEL_WIDTH + BAR_AREA + 6);
        assert!(c.legend.is_empty() && c.goal.is_none());
    }

    #[test]
    fn a_goal_larger_than_every_value_sets_the_scale_and_small_values_stay_visible() {
        let goal = Goal { size: 10, label: "10".into() };
        let c = BarChart::new("c", "t".into(), &[Series::new("a", 0)], &[row("x", &[5]), row("y", &[0])], Some(goal));
        assert_eq!(c.goal.as_ref().map(|g| g.x), Some(LABEL_WIDTH + BAR_AREA));
        assert_eq!(c.bars[0].width, BAR_AREA / 2);
        assert_eq!(c.bars[1].width, 0, "nothing is drawn for zero");
        let tiny =
            BarChart::new("c", "t".into(), &[Series::new("a", 0)], &[row("x", &[1_000_000]), row("y", &[1])], None);
        assert_eq!(tiny.bars[1].width, BAR_MIN);
    }

    #[test]
    fn several_series_are_grouped_per_row_with_a_legend() {
        let series = [Series::new("a", 0), Series::new("b", 1), Series::new("c", 2)];
        let c = BarChart::new("c", "t".into(), &series, &[row("x", &[1, 2, 3]), row("y", &[3, 2, 1])], None);
        assert_eq!(c.bars.len(), 6);
        assert_eq!(c.legend.len(), 3);
        assert_eq!(c.bars[1].y - c.bars[0].y, BAR_HEIGHT + BAR_GAP);
        assert_eq!(c.bars[0].y, TOP_BAND);
        assert_eq!(c.bars[2].class, "bar-s2");
    }

    #[test]
    fn long_labels_are_cut_and_empty_charts_say_so() {
        assert_eq!(shorten("短名"), "短名");
        let long = "重庆市某某某某某某某某某某某有限公司";
        assert!(shorten(long).ends_with('…') && shorten(long).chars().count() <= LABEL_UNITS_MAX / 2 + 1);
        assert!(BarChart::new("c", "t".into(), &[Series::new("a", 0)], &[], None).is_empty());
    }
}
