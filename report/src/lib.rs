//! The office head's report as one self-contained HTML page: the figures of
//! [`qms_core::report::Report`], Vietnamese labels first, with charts drawn by plotters as
//! inline SVG (arrivals and waits by hour, the wait distribution, the load per counter and
//! per officer). Nothing is fetched: the file opens from a USB stick, and prints on A4.

use std::fmt::Write as _;

use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::RangedCoordu32;
use plotters::prelude::*;
use qms_core::calendar::day_month_year;
use qms_core::report::{hour_words, minutes, Figures, Report, Row, COLUMNS};

/// The page's colours: the console's red, and a blue for waits.
const BRAND: RGBColor = RGBColor(176, 30, 35);
const WAIT: RGBColor = RGBColor(33, 97, 140);
const SOFT: RGBColor = RGBColor(120, 120, 120);
/// Chart size in SVG pixels: two fit side by side on A4 at 96 dpi.
const HALF: (u32, u32) = (340, 230);
const WIDE: (u32, u32) = (700, 240);

/// The report as an HTML page.
pub fn html(report: &Report) -> String {
    let mut page = String::new();
    let title = format!("Báo cáo {} — {}", report.period_words(), report.site_name);
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>",
        escape(&title)
    );
    let _ = write!(
        page,
        "<header><h1>Báo cáo tiếp nhận công dân</h1><p class=\"site\">{}</p>\
         <p class=\"period\">{}</p></header>",
        escape(&report.site_name),
        escape(&capitalised(&report.period_words()))
    );
    page += &summary(report);
    page += "<section class=\"charts\">";
    page += &figure("Lượt cấp số theo giờ", &arrivals_by_hour(report));
    page += &figure("Thời gian chờ theo giờ (phút)", &waits_by_hour(report));
    page += &figure("Phân bố thời gian chờ", &wait_distribution(report));
    page += &figure(
        "Số công dân đã giải quyết theo quầy",
        &load_chart(&report.counters, BRAND),
    );
    if !report.officers.is_empty() {
        page += &figure(
            "Số công dân đã giải quyết theo cán bộ",
            &load_chart(&report.officers, WAIT),
        );
    }
    page += "</section>";
    page += &table("Theo thủ tục", &rows(&report.procedures));
    page += &table("Theo quầy", &rows(&report.counters));
    if !report.officers.is_empty() {
        page += &table("Theo cán bộ", &rows(&report.officers));
        page += &satisfaction(&report.officers);
    }
    let hours: Vec<(String, &Figures)> = report
        .hours
        .iter()
        .map(|h| (hour_words(h.hour), &h.figures))
        .collect();
    page += &table("Theo giờ trong ngày (giờ lấy số)", &hours);
    if !report.days.is_empty() {
        let days: Vec<(String, &Figures)> = report
            .days
            .iter()
            .map(|d| (day_month_year(d.day), &d.figures))
            .collect();
        page += &table("Theo ngày", &days);
    }
    page += "<footer>Thời gian chờ: từ lúc lấy số đến lúc được gọi. Thời gian xử lý: từ lúc \
             được gọi đến lúc hoàn thành. Trung vị và P90: một nửa, và 90 trên 100 công dân, \
             không phải chờ lâu hơn. Từ chối: công dân đến khi đã hết số hoặc ngoài giờ.\
             </footer></body></html>\n";
    page
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
}

/// Text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn summary(report: &Report) -> String {
    let t = &report.total;
    let wait = |pick: fn(&qms_core::report::Spread) -> u32| {
        t.wait
            .map_or("—".to_string(), |s| format!("{} phút", minutes(pick(&s))))
    };
    let tiles = [
        ("Đã cấp số", t.issued.to_string()),
        ("Đã giải quyết", t.served.to_string()),
        ("Vắng mặt", t.no_show.to_string()),
        ("Từ chối", t.refused.to_string()),
        ("Chờ trung vị", wait(|s| s.median_seconds)),
        ("Chờ P90", wait(|s| s.p90_seconds)),
        (
            "Hài lòng",
            t.ratings
                .satisfied_percent()
                .map_or("—".to_string(), |p| format!("{p}%")),
        ),
        (
            "Giờ đông nhất",
            report.busiest_hour.map_or("—".to_string(), hour_words),
        ),
    ];
    let mut out = String::from("<section class=\"summary\">");
    for (label, value) in tiles {
        let _ = write!(
            out,
            "<div class=\"tile\"><div class=\"value\">{}</div><div class=\"label\">{}</div></div>",
            escape(&value),
            escape(label)
        );
    }
    out + "</section>"
}

fn figure(caption: &str, svg: &str) -> String {
    format!(
        "<figure><figcaption>{}</figcaption>{svg}</figure>",
        escape(caption)
    )
}

fn rows(rows: &[Row]) -> Vec<(String, &Figures)> {
    rows.iter().map(|r| (r.name.clone(), &r.figures)).collect()
}

fn table(heading: &str, rows: &[(String, &Figures)]) -> String {
    let mut out = format!(
        "<section class=\"table\"><h2>{}</h2><table><thead><tr><th></th>",
        escape(heading)
    );
    for column in &COLUMNS {
        let _ = write!(out, "<th>{}</th>", escape(column.long));
    }
    out += "</tr></thead><tbody>";
    for (name, figures) in rows {
        let _ = write!(out, "<tr><th>{}</th>", escape(name));
        for column in &COLUMNS {
            let _ = write!(out, "<td>{}</td>", escape(&(column.text)(figures)));
        }
        out += "</tr>";
    }
    out + "</tbody></table></section>"
}

/// The ratings per officer, counted: what the province's satisfaction survey asks.
fn satisfaction(officers: &[Row]) -> String {
    let mut out = String::from(
        "<section class=\"table\"><h2>Đánh giá của công dân theo cán bộ</h2><table><thead><tr>\
         <th></th><th>Rất hài lòng</th><th>Hài lòng</th><th>Chưa hài lòng</th><th>Tổng</th>\
         <th>Tỷ lệ hài lòng</th></tr></thead><tbody>",
    );
    for row in officers {
        let r = &row.figures.ratings;
        let _ = write!(
            out,
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&row.name),
            r.very_satisfied,
            r.satisfied,
            r.unsatisfied,
            r.total(),
            r.satisfied_percent()
                .map_or("—".to_string(), |p| format!("{p}%"))
        );
    }
    out + "</tbody></table></section>"
}

/// Draws into an SVG string; a chart that cannot be drawn says so instead.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<(), String>,
) -> String {
    let mut out = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(|e| e.to_string()))
    };
    match drawn {
        Ok(()) => out,
        Err(error) => format!(
            "<p class=\"empty\">Không vẽ được biểu đồ: {}</p>",
            escape(&error)
        ),
    }
}

/// A bar chart's axes: a bar for each of `segments`, each named by `label`, up to a
/// little above `most` (room for a bar's own label).
fn bars<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    segments: std::ops::Range<u32>,
    most: u32,
    x_desc: &str,
    y_desc: &str,
    label: &dyn Fn(u32) -> String,
) -> Result<Bars<'a, 'b>, String> {
    let count = segments.len();
    let mut chart = ChartBuilder::on(root)
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(40)
        .build_cartesian_2d(segments.into_segmented(), 0u32..(most + most / 6 + 1))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(count)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => label(*i),
            SegmentValue::Last => String::new(),
        })
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(chart)
}

/// What [`bars`] draws on.
type Bars<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<SegmentedCoord<RangedCoordu32>, RangedCoordu32>>;

fn no_data() -> String {
    "<p class=\"empty\">Chưa có số liệu</p>".to_string()
}

/// The hours shown: those with tickets, widened to whole office hours.
fn hour_range(report: &Report) -> Option<(u32, u32)> {
    let first = report.hours.first()?.hour;
    let last = report.hours.last()?.hour;
    Some((u32::from(first), u32::from(last) + 1))
}

fn arrivals_by_hour(report: &Report) -> String {
    let Some((first, end)) = hour_range(report) else {
        return no_data();
    };
    let most = report
        .hours
        .iter()
        .map(|h| h.figures.issued + h.figures.refused)
        .max()
        .unwrap_or(0);
    svg(HALF, |root| {
        let mut chart = bars(root, first..end, most, "Giờ", "Số phiếu", &|h| {
            format!("{h}h")
        })?;
        let issued = report
            .hours
            .iter()
            .map(|h| (u32::from(h.hour), h.figures.issued));
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(BRAND.filled())
                    .margin(4)
                    .data(issued),
            )
            .map_err(|e| e.to_string())?
            .label("Đã cấp số")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], BRAND.filled()));
        // Refusals drawn on top of the tickets issued in the same hour.
        let refused = report
            .hours
            .iter()
            .filter(|h| h.figures.refused > 0)
            .map(|h| {
                let x = u32::from(h.hour);
                Rectangle::new(
                    [
                        (SegmentValue::Exact(x), h.figures.issued),
                        (
                            SegmentValue::Exact(x + 1),
                            h.figures.issued + h.figures.refused,
                        ),
                    ],
                    SOFT.filled(),
                )
            });
        chart
            .draw_series(refused)
            .map_err(|e| e.to_string())?
            .label("Từ chối")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], SOFT.filled()));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(SOFT)
            .draw()
            .map_err(|e| e.to_string())
    })
}

fn waits_by_hour(report: &Report) -> String {
    let Some((first, end)) = hour_range(report) else {
        return no_data();
    };
    let waits: Vec<(u32, u32, u32)> = report
        .hours
        .iter()
        .filter_map(|h| {
            let w = h.figures.wait?;
            Some((
                u32::from(h.hour),
                minutes(w.median_seconds),
                minutes(w.p90_seconds),
            ))
        })
        .collect();
    if waits.is_empty() {
        return no_data();
    }
    let most = waits.iter().map(|w| w.2).max().unwrap_or(0);
    svg(HALF, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(40)
            .build_cartesian_2d(first as f64..end as f64, 0u32..(most + most / 8 + 2))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("Giờ lấy số")
            .y_desc("Phút")
            .x_labels((end - first) as usize + 1)
            .x_label_formatter(&|h| format!("{h:.0}h"))
            .draw()
            .map_err(|e| e.to_string())?;
        let at = |w: &(u32, u32, u32)| f64::from(w.0) + 0.5;
        chart
            .draw_series(LineSeries::new(
                waits.iter().map(|w| (at(w), w.1)),
                WAIT.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label("Trung vị")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], WAIT.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(
                waits.iter().map(|w| (at(w), w.2)),
                BRAND.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label("P90")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], BRAND.stroke_width(2)));
        chart
            .draw_series(
                waits
                    .iter()
                    .map(|w| Circle::new((at(w), w.1), 3, WAIT.filled())),
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(SOFT)
            .draw()
            .map_err(|e| e.to_string())
    })
}

fn wait_distribution(report: &Report) -> String {
    let bands = &report.wait_bands;
    if bands.iter().all(|b| b.count == 0) {
        return no_data();
    }
    let most = bands.iter().map(|b| b.count).max().unwrap_or(0);
    svg(HALF, |root| {
        let label = |i: u32| {
            bands
                .get(i as usize)
                .map_or(String::new(), |b| match b.to_minutes {
                    Some(_) => b.from_minutes.to_string(),
                    None => format!("≥{}", b.from_minutes),
                })
        };
        let segments = 0..bands.len() as u32;
        let mut chart = bars(
            root,
            segments,
            most,
            "Phút chờ (mỗi cột 10 phút)",
            "Công dân",
            &label,
        )?;
        let counts = bands.iter().enumerate().map(|(i, b)| (i as u32, b.count));
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(WAIT.filled())
                    .margin(3)
                    .data(counts),
            )
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// Citizens served per counter or officer, with their median service time written on
/// each bar.
fn load_chart(rows: &[Row], colour: RGBColor) -> String {
    if rows.iter().all(|r| r.figures.served == 0) {
        return no_data();
    }
    let most = rows.iter().map(|r| r.figures.served).max().unwrap_or(0);
    let size = if rows.len() > 6 { WIDE } else { HALF };
    svg(size, |root| {
        let label = |i: u32| {
            rows.get(i as usize)
                .map_or(String::new(), |r| short_name(&r.name))
        };
        let segments = 0..rows.len() as u32;
        let mut chart = bars(root, segments, most, "", "Đã giải quyết", &label)?;
        let served = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (i as u32, r.figures.served));
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(colour.filled())
                    .margin(6)
                    .data(served),
            )
            .map_err(|e| e.to_string())?;
        let labels = rows.iter().enumerate().filter_map(|(i, r)| {
            let service = r.figures.service?;
            Some(Text::new(
                format!("{}ph", minutes(service.median_seconds)),
                (SegmentValue::CenterOf(i as u32), r.figures.served),
                ("sans-serif", 12).into_font().color(&BLACK),
            ))
        });
        chart.draw_series(labels).map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// "Nguyễn Văn An" as "Văn An": the bars are narrow.
fn short_name(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.len() {
        0..=2 => name.to_string(),
        n => words[n - 2..].join(" "),
    }
}

const STYLE: &str = r#"
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", "DejaVu Sans", "Noto Sans", Arial, sans-serif; color: #1d1f23;
  margin: 0 auto; max-width: 190mm; padding: 8px; font-size: 12px; }
header { border-bottom: 3px solid #b01e23; margin-bottom: 10px; }
h1 { font-size: 22px; margin: 0; color: #b01e23; }
header p { margin: 2px 0; }
.site { font-size: 15px; font-weight: 700; }
.period { color: #555; }
h2 { font-size: 14px; margin: 12px 0 4px; break-after: avoid; }
.summary { display: grid; grid-template-columns: repeat(4, 1fr); gap: 6px; margin: 8px 0; }
.tile { border: 1px solid #ddd; border-radius: 6px; padding: 6px 8px; break-inside: avoid; }
.tile .value { font-size: 20px; font-weight: 700; color: #b01e23; }
.tile .label { color: #555; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; justify-content: space-between; }
figure { margin: 0; break-inside: avoid; }
figcaption { font-weight: 700; margin: 4px 0; }
figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 10px; }
th, td { border: 1px solid #ccc; padding: 2px 4px; }
thead th { background: #f3f3f3; font-weight: 700; }
td { text-align: right; white-space: nowrap; }
tbody th { text-align: left; font-weight: 400; width: 24%; }
thead th { font-size: 9px; }
tr { break-inside: avoid; }
.table { break-inside: auto; }
.empty { color: #888; width: 340px; }
footer { margin-top: 12px; color: #666; font-size: 10px; }
.toolbar { display: flex; flex-wrap: wrap; gap: 8px; justify-content: space-between;
  align-items: center; background: #f3f3f3; padding: 6px 8px; border-radius: 6px; margin-bottom: 8px; }
.toolbar form { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin: 0; }
.toolbar .error { color: #b01e23; font-weight: 700; width: 100%; margin: 0; }
@media print { .toolbar { display: none; } }
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use qms_core::report::{DayRecord, Report};
    use qms_core::sample;

    fn morning_report() -> Report {
        let office = sample::morning(None);
        let day = office.now.date();
        let record = DayRecord::of_state(day, &office.state);
        Report::of(&office.config, day, day, &[record])
    }

    #[test]
    fn the_page_stands_alone_with_its_charts_and_tables_in_vietnamese() {
        let page = html(&morning_report());
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains("<html lang=\"vi\">"));
        assert!(page.contains("Lượt cấp số theo giờ"));
        assert!(page.contains("Cấp, đổi, cấp lại thẻ Căn cước"));
        assert!(page.matches("<svg").count() >= 3, "{page}");
        for outside in ["src=\"http", "href=\"http", "<script", "<link"] {
            assert!(!page.contains(outside), "nothing is fetched: {outside}");
        }
        assert!(!page.contains("Không vẽ được"), "every chart is drawn");
    }

    #[test]
    fn names_are_escaped_and_shortened_for_the_bars() {
        assert_eq!(escape("<b>&\""), "&lt;b&gt;&amp;&quot;");
        assert_eq!(short_name("Nguyễn Văn An"), "Văn An");
        assert_eq!(short_name("Quầy 3"), "Quầy 3");
    }
}
