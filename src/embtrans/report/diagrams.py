"""The report's diagrams: a translator's real layer stack, and what the pipeline measures where.

Everything is laid out in inches on one axes that spans the figure (y grows downwards), and text is
measured before it is placed, so boxes fit their labels and the figure fits its boxes.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

from matplotlib import cbook
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.textpath import text_to_path
from torch import nn

from embtrans.analysis.figures.plots import save_figure

TITLE, FONT, SMALL = 12, 10, 9  # points
WIDTH = 6.0  # inches: 900 px at plots.DPI
MARGIN = 0.2
GAP = 0.28  # vertical room for an arrow between two boxes
INK, MUTED, ACCENT = "#263238", "#5f6b73", "#b23b3b"
# (fill, edge) per kind of box.
COLOURS = {
    "linear": ("#dbe9f6", "#2f6ea5"),
    "activation": ("#fde3c8", "#c0661b"),
    "norm": ("#d9f0dc", "#3b8a47"),
    "dropout": ("#ebe3f3", "#7052a0"),
    "other": ("#eeeeee", "#777777"),
    "node": ("#ffffff", INK),
    "data": ("#f4f4f4", "#8a8a8a"),
    "test": ("#fdf0ef", ACCENT),
    "region": ("none", ACCENT),
}
COLOURS["encoder"], COLOURS["fit"] = COLOURS["linear"], COLOURS["activation"]
CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


# --- Walking the module --------------------------------------------------------------------------

def skip_layer(module: nn.Module) -> nn.Module | None:
    skip = getattr(module, "skip", None)
    return skip if isinstance(skip, nn.Module) else None


def has_skip(module: nn.Module) -> bool:
    return skip_layer(module) is not None


def leaf_layers(module: nn.Module) -> list[nn.Module]:
    """The main path's leaf modules in registration order, which for the translators is forward order."""
    skip = skip_layer(module)
    skipped = {id(m) for m in skip.modules()} if skip is not None else set()
    leaves = [m for m in module.modules() if id(m) not in skipped and next(m.children(), None) is None]
    # A childless root is a layer itself (an nn.Linear passed directly), unless it is an empty shell.
    if leaves == [module] and (isinstance(module, CONTAINERS) or type(module).forward is nn.Module.forward):
        return []
    return leaves


def layer_label(layer: nn.Module) -> str:
    if isinstance(layer, nn.Linear):
        return f"Linear {layer.in_features:,}→{layer.out_features:,}"
    if isinstance(layer, nn.LayerNorm):
        return "LayerNorm " + "×".join(f"{n:,}" for n in layer.normalized_shape)
    if isinstance(layer, nn.Dropout):
        return f"Dropout p={layer.p:g}"
    return type(layer).__name__


def layer_labels(module: nn.Module) -> list[str]:
    return [layer_label(layer) for layer in leaf_layers(module)]


def layer_kind(layer: nn.Module) -> str:
    name = type(layer).__name__
    if isinstance(layer, nn.Linear):
        return "linear"
    if "Norm" in name:
        return "norm"
    if "Dropout" in name:
        return "dropout"
    if type(layer).__module__ == "torch.nn.modules.activation":
        return "activation"
    return "other"


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- Measuring and drawing text and boxes --------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def text_width(text: str, size: float, weight: str = "normal") -> float:
    """Inches, from the font's advance widths (mathtext between paired $ signs, as matplotlib reads it)."""
    ismath = cbook.is_math_text(text)
    shown = text if ismath else text.replace(r"\$", "$")  # matplotlib draws an escaped $ as a $
    width, _, _ = text_to_path.get_text_width_height_descent(shown, FontProperties(size=size, weight=weight), ismath)
    return float(width) / 72


def plain_text(text: str) -> str:
    """A name from a config (a label, a model) as a figure shows it: its "$" signs start no mathtext,
    which could fail to parse and take the report down with it."""
    return str(text).replace("$", r"\$")


def line_height(size: float) -> float:
    return 1.4 * size / 72


def wrap(text: str, width: float, size: float, weight: str = "normal") -> list[str]:
    """Greedy word wrap to ``width`` inches, measured; a word too long on its own is split."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and text_width(candidate, size, weight) <= width:
            lines[-1] = candidate
            continue
        while text_width(word, size, weight) > width and len(word) > 1:
            cut = max(i for i in range(1, len(word) + 1) if text_width(word[:i], size, weight) <= width or i == 1)
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines


class Canvas:
    """An axes over the whole figure, in inches from the top left; the height is fixed at the end."""

    def __init__(self, width: float) -> None:
        self.width = width
        self.fig = Figure(figsize=(width, 1))
        self.ax = self.fig.add_axes((0, 0, 1, 1))
        self.ax.set_axis_off()

    def text(self, x: float, y: float, text: str, size: float = FONT, **kwargs) -> None:
        kwargs = {"ha": "center", "va": "center", "color": INK, **kwargs}
        self.ax.text(x, y, text, fontsize=size, **kwargs)

    def lines(self, x: float, top: float, lines: list[tuple[str, float, dict]], **kwargs) -> float:
        """Stacked lines of (text, size, style) from ``top``; returns the bottom."""
        y = top
        for text, size, style in lines:
            self.text(x, y + line_height(size) / 2, text, size, **{**kwargs, **style})
            y += line_height(size)
        return y

    def box(self, cx: float, top: float, width: float, height: float, kind: str, dashed: bool = False,
            rounding: float = 0.06) -> None:
        fill, edge = COLOURS[kind]
        self.ax.add_patch(FancyBboxPatch(
            (cx - width / 2, top), width, height, boxstyle=f"round,pad=0,rounding_size={rounding}",
            facecolor=fill, edgecolor=edge, linewidth=1.1, linestyle="--" if dashed else "-", zorder=2))

    def labelled_box(self, cx: float, top: float, width: float, lines: list[tuple[str, float, dict]],
                     kind: str, pad: float = 0.09) -> float:
        height = sum(line_height(size) for _, size, _ in lines) + 2 * pad
        self.box(cx, top, width, height, kind)
        self.lines(cx, top + pad, lines, zorder=3)
        return top + height

    def arrow(self, start: tuple[float, float], end: tuple[float, float], colour: str = INK) -> None:
        self.ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=11, color=colour,
                                          linewidth=1.1, shrinkA=0, shrinkB=0, zorder=1))

    def polyline(self, points: list[tuple[float, float]], colour: str = INK) -> None:
        """Straight segments, the last one ending in an arrowhead."""
        for start, end in zip(points[:-2], points[1:-1]):
            self.ax.plot(*zip(start, end), color=colour, linewidth=1.1, solid_capstyle="butt", zorder=1)
        self.arrow(points[-2], points[-1], colour)

    def finish(self, height: float) -> Figure:
        self.fig.set_size_inches(self.width, height)
        self.ax.set_xlim(0, self.width)
        self.ax.set_ylim(height, 0)
        return self.fig


def placeholder_stamp(fig: Figure) -> None:
    width, height = fig.get_size_inches()
    fig.text(0.5, 0.5, "PLACEHOLDER", transform=fig.transFigure, rotation=30, alpha=0.35, color="red",
             fontsize=min(width * 72 / 8.5, height * 72 / 4.5), fontweight="bold", ha="center", va="center",
             zorder=100)


def title_block(canvas: Canvas, title: str, subtitles: list[str]) -> float:
    lines = [(line, TITLE, {"fontweight": "bold"}) for line in wrap(title, canvas.width - 2 * MARGIN, TITLE, "bold")]
    for subtitle in subtitles:
        lines += [(line, SMALL, {"color": MUTED}) for line in wrap(subtitle, canvas.width - 2 * MARGIN, SMALL)]
    return canvas.lines(canvas.width / 2, MARGIN, lines)


def caption(canvas: Canvas, top: float, note: str | None) -> float:
    if not note:
        return top
    lines = [(line, SMALL, {"color": MUTED, "fontstyle": "italic"})
             for line in wrap(note, canvas.width - 2 * MARGIN, SMALL)]
    return canvas.lines(canvas.width / 2, top + 0.12, lines)


# --- The translator ------------------------------------------------------------------------------

def box_width(size: int, label_width: float, cap: float) -> float:
    """Grows with log2 of the layer's output size, so a 32x hidden layer reads wider than a 1x one."""
    scaled = 1.2 + 0.25 * math.log2(max(size, 1) / 64)
    return min(cap, max(scaled, label_width + 0.3))


def layer_lines(layer: nn.Module, prefix: str = "") -> list[tuple[str, float, dict]]:
    lines = [(prefix + layer_label(layer), FONT, {})]
    if count := parameter_count(layer):
        lines.append((f"{count:,} params", SMALL, {"color": MUTED}))
    return lines


def draw_translator(module: nn.Module, in_dim: int, out_dim: int, title: str, path: Path,
                    note: str | None = None, placeholder: bool = False) -> Path:
    layers = leaf_layers(module)
    if not layers:
        raise ValueError(f"{type(module).__name__} has no leaf layers to draw")
    skip = skip_layer(module)
    hidden = getattr(module, "hidden", None)
    if isinstance(hidden, int):
        base = min(in_dim, out_dim)
        multiple = f" = {hidden // base} × {base:,}" if hidden % base == 0 else ""
        hidden_text = f"hidden size {hidden:,}{multiple}"
    else:
        hidden_text = "no hidden layer"
    canvas = Canvas(WIDTH)
    y = title_block(canvas, title, [f"{parameter_count(module):,} parameters · {hidden_text}"]) + 0.22

    # With a skip connection the main column moves left to leave a lane on the right for the bypass.
    skip_lines = layer_lines(skip, "skip: ") if skip is not None else []
    skip_width = max((text_width(text, size) for text, size, _ in skip_lines), default=0) + 0.3
    skip_x = WIDTH - MARGIN - skip_width / 2
    right = skip_x - skip_width / 2 - 0.25 if skip is not None else WIDTH - MARGIN
    cx, cap = (MARGIN + right) / 2, right - MARGIN

    source = f"$z_A$  ($d_A$ = {in_dim:,})"
    source_width = text_width(source, FONT) + 0.45
    source_top, y = y, canvas.labelled_box(cx, y, source_width, [(source, FONT, {})], "node")
    source_bottom = y
    size = in_dim
    for layer in layers:
        size = layer.out_features if isinstance(layer, nn.Linear) else size
        lines = layer_lines(layer)
        width = box_width(size, max(text_width(text, s) for text, s, _ in lines), cap)
        canvas.arrow((cx, y), (cx, y + GAP))
        y = canvas.labelled_box(cx, y + GAP, width, lines, layer_kind(layer))

    if skip is not None:
        radius = 0.14
        canvas.arrow((cx, y), (cx, y + GAP))
        plus_y = y + GAP + radius
        canvas.ax.add_patch(Circle((cx, plus_y), radius, facecolor="white", edgecolor=INK, linewidth=1.1, zorder=2))
        canvas.text(cx, plus_y, "+", 12, fontweight="bold", zorder=3)
        skip_height = sum(line_height(s) for _, s, _ in skip_lines) + 0.18
        skip_top = (source_bottom + plus_y - skip_height) / 2
        source_mid = (source_top + source_bottom) / 2
        canvas.polyline([(cx + source_width / 2, source_mid), (skip_x, source_mid), (skip_x, skip_top)])
        canvas.labelled_box(skip_x, skip_top, skip_width, skip_lines, layer_kind(skip))
        canvas.polyline([(skip_x, skip_top + skip_height), (skip_x, plus_y), (cx + radius, plus_y)])
        y = plus_y + radius

    target = f"$\\hat{{z}}_B$  ($d_B$ = {out_dim:,})"
    target_width = text_width(target, FONT) + 0.45
    canvas.arrow((cx, y), (cx, y + GAP))
    y = canvas.labelled_box(cx, y + GAP, target_width, [(target, FONT, {})], "node")
    canvas.text(cx + target_width / 2 + 0.15, y - 0.16, "≈ $z_B$, MSE loss", SMALL, ha="left", color=MUTED,
                fontstyle="italic")

    fig = canvas.finish(caption(canvas, y + 0.05, note) + MARGIN)
    if placeholder:
        placeholder_stamp(fig)
    return save_figure(fig, path)


# --- The measurement protocol --------------------------------------------------------------------

PROTOCOL_WIDTH = 7.0
# (tag, measure, compared with): the rows of the test-split table.
METRICS = [
    ("(a) point-wise", "MSE and cosine similarity of each pair $c(z_A)$, $z_B$",
     "mean-vector baseline (always predict the mean of train $z_B$)"),
    ("(b) neighbourhoods", "k-NN Jaccard@k and rank-biased overlap of each text's neighbours",
     "untranslated A ($z_A$'s own neighbours)"),
    ("(c) geometry", "CKA between the kernel matrices", "permutation null (rows shuffled)"),
    ("(d) matching", "vec2vec-style: top-1 and mean rank of the true partner among all test vectors",
     "chance (top-1 = 1/n)"),
    ("(e) retrieval in ChromaDB", "queries embedded by B, searched in the translated collection $c(z_A)$ and in the "
     "native B collection → Recall@10, nDCG@10",
     "retention (translated / native) and gap closed over a floor: untranslated A or random ranking"),
]


def draw_measurement_protocol(path: Path, models: tuple[str, str] = ("A", "B"), split=(0.8, 0.2),
                              title: str | None = None, val_fraction: float = 0.1,
                              placeholder: bool = False) -> Path:
    train, test = (round(100 * part) for part in split)
    val = round(100 * val_fraction)
    canvas = Canvas(PROTOCOL_WIDTH)
    W = PROTOCOL_WIDTH
    y = title_block(canvas, title or "What is measured where", []) + 0.2
    left, right = W * 0.27, W * 0.73
    column = W / 2 - 2 * MARGIN

    texts_bottom = canvas.labelled_box(W / 2, y, 3.6, [
        ("texts", FONT, {"fontweight": "bold"}),
        ("each in a group (a movie, an article, …)", SMALL, {"color": MUTED})], "data")

    y = texts_bottom + GAP + 0.05
    bottoms = []
    for x, letter, model in ((left, "A", models[0]), (right, "B", models[1])):
        canvas.arrow((W / 2 + (x - W / 2) * 0.35, texts_bottom), (x, y))
        lines = [(f"encoder {letter}", FONT, {"fontweight": "bold"})]
        if model != letter:
            lines += [(line, SMALL, {}) for line in wrap(model, column - 0.3, SMALL)]
        bottom = canvas.labelled_box(x, y, column, lines, "encoder")
        canvas.arrow((x, bottom), (x, bottom + GAP))
        vector = f"native vectors $z_{letter}$"
        bottoms.append(canvas.labelled_box(x, bottom + GAP, text_width(vector, FONT) + 0.45,
                                           [(vector, FONT, {})], "node"))
    y = max(bottoms)

    split_top = y + GAP
    for x, bottom in zip((left, right), bottoms):
        canvas.arrow((x, bottom), (x, split_top))
    y = canvas.labelled_box(W / 2, split_top, W - 2 * MARGIN, [
        ("seeded split by group (a hash of the group's name, the same for every model)", FONT,
         {"fontweight": "bold"}),
        (f"{train} % train, {val} % of it held out for validation (early stopping)  ·  {test} % test",
         SMALL, {})], "data")

    fit_top = y + GAP
    canvas.arrow((left, y), (left, fit_top))
    fit_lines = [(f"fit on the {train} % train pairs ($z_A$, $z_B$)", FONT, {"fontweight": "bold"})]
    fit_lines += [(line, SMALL, {}) for line in wrap(
        "translator $c$ (linear or MLP): minimise MSE($c(z_A)$, $z_B$); early stopping on validation", column - 0.3, SMALL)]
    fit_lines += [(line, SMALL, {"color": MUTED}) for line in wrap(
        "baselines on the same pairs: closed-form lstsq, orthogonal Procrustes", column - 0.3, SMALL)]
    fit_bottom = canvas.labelled_box(left, fit_top, column, fit_lines, "fit")
    note = wrap(f"the {test} % test pairs are never seen while fitting", W - MARGIN - right - 0.15, SMALL)
    canvas.lines(right + 0.12, fit_top + 0.1, [(line, SMALL, {}) for line in note], ha="left", color=MUTED,
                 fontstyle="italic")

    # The test region: everything below is measured on held-out pairs only.
    region_top = fit_bottom + GAP + 0.05
    canvas.arrow((left, fit_bottom), (left, region_top), ACCENT)
    canvas.text(left + 0.1, (fit_bottom + region_top) / 2 + 0.05, "$c$, lstsq, Procrustes", SMALL, ha="left",
                color=ACCENT)
    canvas.arrow((right, y), (right, region_top), ACCENT)
    canvas.text(right + 0.1, (fit_bottom + region_top) / 2 + 0.05, f"test $z_A$, $z_B$ ({test} %)", SMALL, ha="left",
                color=ACCENT)
    inner = W - 2 * MARGIN - 0.3
    x0 = MARGIN + 0.15
    widths = [1.65, 2.75, inner - 1.65 - 2.75]
    y = region_top + 0.12
    canvas.text(x0, y + 0.12, f"measured on the {test} % test split", FONT, ha="left", fontweight="bold",
                color=ACCENT)
    canvas.text(W - x0, y + 0.12, "$c(z_A)$ compared with native $z_B$", FONT, ha="right", fontweight="bold")
    y += 0.4
    starts = [x0, x0 + widths[0], x0 + widths[0] + widths[1]]
    for start, header in zip(starts[1:], ("measure", "compared with")):
        canvas.text(start + 0.1, y + 0.08, header, SMALL, ha="left", color=MUTED, fontweight="bold")
    y += 0.22
    for tag, measure, reference in METRICS:
        cells = [wrap(tag, widths[0] - 0.2, SMALL, "bold"), wrap(measure, widths[1] - 0.2, SMALL),
                 wrap(reference, widths[2] - 0.2, SMALL)]
        height = max(len(cell) for cell in cells) * line_height(SMALL) + 0.14
        canvas.box(W / 2, y, inner, height, "test", rounding=0.04)
        for start, cell, weight in zip(starts, cells, ("bold", "normal", "normal")):
            canvas.lines(start + 0.1, y + 0.07, [(line, SMALL, {"fontweight": weight}) for line in cell],
                         ha="left", zorder=3)
        y += height + 0.07
    region_bottom = y + 0.06
    canvas.box(W / 2, region_top, W - 2 * MARGIN, region_bottom - region_top, "region", dashed=True, rounding=0.1)

    fig = canvas.finish(region_bottom + MARGIN)
    if placeholder:
        placeholder_stamp(fig)
    return save_figure(fig, path)
