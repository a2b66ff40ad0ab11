"""The study folder: what is compared, the videos under opaque names, the admin token.

    STUDY/study.json     the manifest (methods, items, media; read by `serve` and `results`)
    STUDY/media/*.mp4    every video a rater can be shown, named by a random token (the name says nothing
                         of the method)
    STUDY/admin_token    the admin page's token (mode 0600)
    STUDY/votes.sqlite3  the votes, once served (the default database)

An item is one A/B comparison: a pair (two methods' videos of the same source dance and target photo, in
the full or the foreground-only "(F)" variant), or an attention check (one method's video against a
visibly broken copy of it, whose side is the pseudo-method BROKEN).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from cpfnet.errors import UserError
from cpfnet.io.atomic import atomic_dir
from cpfnet.io.video import VIDEO_SUFFIXES

log = logging.getLogger(__name__)

FORMAT = 1
BROKEN = "<broken>"  # the method name of an attention check's broken side
VARIANTS = ("full", "fg")  # fg: the foreground only, Table II's "(F)"
FG_MASKS = ("segment", "files")
DEFAULT_QUESTION = "Which video looks more realistic and natural?"


@dataclass(frozen=True)
class Item:
    """One comparison shown as a left/right pair. `methods` is the order rows are reported in (A vs B)."""

    id: str
    kind: str  # "pair" or "check"
    variant: str  # "full" or "fg"
    video: str  # the file name stem shared by the methods' outputs
    methods: tuple[str, str]
    media: dict[str, str]  # method -> media token (STUDY/media/<token>.mp4)


@dataclass
class Study:
    root: Path
    study_id: str
    title: str
    question: str
    methods: list[str]
    reference: str | None
    pairs_per_rater: int
    checks_per_rater: int
    check_kind: str
    created: str
    items: dict[str, Item] = field(default_factory=dict)

    @property
    def pairs(self) -> list[Item]:
        return [i for i in self.items.values() if i.kind == "pair"]

    @property
    def checks(self) -> list[Item]:
        return [i for i in self.items.values() if i.kind == "check"]

    @property
    def per_rater(self) -> int:
        return self.pairs_per_rater + self.checks_per_rater

    @property
    def media_dir(self) -> Path:
        return self.root / "media"

    def media_path(self, token: str) -> Path:
        return self.media_dir / f"{token}.mp4"

    def default_db_url(self) -> str:
        return f"sqlite:///{(self.root / 'votes.sqlite3').resolve()}"

    def admin_token(self) -> str:
        return (self.root / "admin_token").read_text().strip()

    def comparisons(self) -> list[tuple[str, str, str]]:
        """(variant, method A, method B) of every reported row, in table order."""
        seen: dict[tuple[str, str, str], None] = {}
        for item in self.pairs:
            seen.setdefault((item.variant, *item.methods), None)
        return sorted(seen, key=lambda c: (VARIANTS.index(c[0]), self.methods.index(c[2]),
                                           self.methods.index(c[1])))


def load_study(path: str | os.PathLike) -> Study:
    """Read STUDY/study.json; a UserError when it is not a study folder."""
    root = Path(path)
    manifest = root / "study.json"
    if not manifest.is_file():
        raise UserError(f"{root}: not a study folder (no study.json); make one with `cpfnet study create`")
    try:
        data = json.loads(manifest.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{manifest}: not valid JSON ({exc})") from None
    if data.get("format") != FORMAT:
        raise UserError(f"{manifest}: format {data.get('format')!r}, this cpfnet reads format {FORMAT}")
    items = {d["id"]: Item(d["id"], d["kind"], d["variant"], d["video"], tuple(d["methods"]), dict(d["media"]))
             for d in data["items"]}
    return Study(root=root, study_id=data["study_id"], title=data["title"], question=data["question"],
                 methods=list(data["methods"]), reference=data.get("reference"),
                 pairs_per_rater=int(data["pairs_per_rater"]), checks_per_rater=int(data["checks_per_rater"]),
                 check_kind=data["check_kind"], created=data["created"], items=items)


def parse_method(text: str) -> tuple[str, Path]:
    """"NAME=DIR" or "DIR" (the name is then the folder's name) -> (name, folder)."""
    name, sep, folder = text.partition("=")
    if not sep:
        name, folder = Path(text).name, text
    name = name.strip()
    if not name or name == BROKEN or any(c in name for c in "<>\"'&"):
        raise UserError(f"{text!r}: a method needs a plain name (NAME=DIR)")
    return name, Path(folder)


def _videos(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder")
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
            if path.stem in found:
                raise UserError(f"{folder}: two videos named {path.stem} ({found[path.stem].name}, {path.name})")
            found[path.stem] = path
    if not found:
        raise UserError(f"{folder}: no video files ({', '.join(sorted(VIDEO_SUFFIXES))})")
    return found


def _mask_file(folder: Path, stem: str) -> Path:
    for suffix in sorted(VIDEO_SUFFIXES):
        path = folder / "masks" / f"{stem}{suffix}"
        if path.is_file():
            return path
    raise UserError(f"{folder / 'masks'}: no mask video for {stem} (--fg-masks files wants "
                    f"METHOD_DIR/masks/{stem}.mp4, white = person)")


@dataclass
class StudyConfig:
    """What `cpfnet study create` asks for; see its --help."""

    out: str
    methods: list[str]  # "NAME=DIR" or "DIR"
    reference: str | None = None
    variants: tuple[str, ...] = ("full",)
    fg_masks: str = "segment"
    pairs_per_rater: int = 20
    checks_per_rater: int = 2
    check_kind: str = "shuffled"
    title: str = "Which video looks more real?"
    question: str = DEFAULT_QUESTION
    seed: int = 0
    overwrite: bool = False

    def validate(self) -> None:
        if len(self.methods) < 2:
            raise UserError("give at least two methods' folders (NAME=DIR ...)")
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown or not self.variants:
            raise UserError(f"--variants {','.join(self.variants)}: choose from {', '.join(VARIANTS)}")
        if self.fg_masks not in FG_MASKS:
            raise UserError(f"--fg-masks {self.fg_masks}: choose from {', '.join(FG_MASKS)}")
        if self.pairs_per_rater < 1:
            raise UserError("--pairs-per-rater must be at least 1")
        if self.checks_per_rater < 0:
            raise UserError("--checks-per-rater cannot be negative")
        from cpfnet.study.media import CHECK_KINDS

        if self.check_kind not in CHECK_KINDS:
            raise UserError(f"--check-kind {self.check_kind}: choose from {', '.join(CHECK_KINDS)}")


def create_study(cfg: StudyConfig, progress=None) -> Study:
    """Make the study folder `cfg.out` (atomically) and return it loaded.

    Videos are matched by file name stem across the methods' folders (the same stem = the same source dance
    and target photo); stems missing from some folder are left out with a warning.
    """
    from cpfnet.study import media

    cfg.validate()
    methods = dict(parse_method(m) for m in cfg.methods)
    if len(methods) != len(cfg.methods):
        raise UserError("two methods have the same name; name them: NAME=DIR")
    if cfg.reference is not None and cfg.reference not in methods:
        raise UserError(f"--reference {cfg.reference}: not one of the methods ({', '.join(methods)})")
    out = Path(cfg.out)
    if out.exists() and not cfg.overwrite and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out}: exists; choose another folder or pass --overwrite")
    listed = {name: _videos(folder) for name, folder in methods.items()}
    stems = sorted(set.intersection(*(set(v) for v in listed.values())))
    for name, videos in listed.items():
        missing = sorted(set(videos) - set(stems))
        if missing:
            log.warning("%s: %d video(s) not in every method's folder, left out: %s", name, len(missing),
                        ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""))
    if not stems:
        raise UserError("no video name is in every method's folder; outputs of the same transfer must share a "
                        "file name")
    names = list(methods)
    if cfg.reference:
        others = [m for m in names if m != cfg.reference]
        method_pairs = [(cfg.reference, m) for m in others]
    else:
        method_pairs = list(itertools.combinations(names, 2))
    n_pairs = len(stems) * len(method_pairs) * len(cfg.variants)
    if cfg.pairs_per_rater > n_pairs:
        raise UserError(f"--pairs-per-rater {cfg.pairs_per_rater}, but the study has only {n_pairs} pairs "
                        f"({len(stems)} videos x {len(method_pairs)} method pairs x {len(cfg.variants)} variants)")
    rng = np.random.default_rng(cfg.seed)
    tokens: set[str] = set()

    def token() -> str:
        while (t := secrets.token_hex(8)) in tokens:
            pass
        tokens.add(t)
        return t

    jobs = []  # (token, function, args): each writes one media file
    media_of: dict[tuple[str, str, str], str] = {}
    for variant in cfg.variants:
        for name in names:
            for stem in stems:
                t = token()
                media_of[(variant, name, stem)] = t
                src = listed[name][stem]
                if variant == "full":
                    jobs.append((t, media.copy_video, (src,)))
                elif cfg.fg_masks == "files":
                    jobs.append((t, lambda s, o, m=_mask_file(methods[name], stem): media.foreground_only(
                        s, o, media.mask_frames(m)), (src,)))
                else:
                    jobs.append((t, lambda s, o: media.foreground_only(s, o, media.SegmentationMasks()), (src,)))
    items: list[Item] = []
    for variant in cfg.variants:
        for a, b in method_pairs:
            for stem in stems:
                items.append(Item(f"p{len(items) + 1:04d}", "pair", variant, stem, (a, b),
                                  {a: media_of[(variant, a, stem)], b: media_of[(variant, b, stem)]}))
    checks: list[Item] = []
    if cfg.checks_per_rater:
        # Enough distinct checks that a rater never sees the same one twice and raters do not all share one.
        count = max(cfg.checks_per_rater, min(len(stems) * len(names), 2 * cfg.checks_per_rater, 8))
        variant = cfg.variants[0]
        chosen = rng.permutation([(n, s) for s in stems for n in names])
        for k in range(count):
            name, stem = chosen[k % len(chosen)]
            t = token()
            good = media_of[(variant, name, stem)]
            jobs.append((t, lambda s, o, seed=int(rng.integers(1 << 31)): media.broken(s, o, cfg.check_kind, seed),
                         (good,)))
            checks.append(Item(f"c{k + 1:03d}", "check", variant, stem, (name, BROKEN), {name: good, BROKEN: t}))
    study_id = secrets.token_hex(8)
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    with atomic_dir(out, overwrite=cfg.overwrite) as tmp:
        (tmp / "media").mkdir()
        for done, (t, fn, args) in enumerate(jobs):
            # A check's source is a media token already written (the good side), so jobs run in order.
            src = args[0] if isinstance(args[0], Path) else tmp / "media" / f"{args[0]}.mp4"
            fn(src, tmp / "media" / f"{t}.mp4")
            if progress:
                progress(done + 1, len(jobs))
        manifest = {
            "format": FORMAT, "study_id": study_id, "title": cfg.title, "question": cfg.question,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "methods": names, "reference": cfg.reference, "variants": list(cfg.variants),
            "pairs_per_rater": cfg.pairs_per_rater, "checks_per_rater": cfg.checks_per_rater,
            "check_kind": cfg.check_kind, "fg_masks": cfg.fg_masks if "fg" in cfg.variants else None,
            "sources": {name: str(folder.resolve()) for name, folder in methods.items()},
            "items": [asdict(i) | {"methods": list(i.methods)} for i in items + checks],
        }
        (tmp / "study.json").write_text(json.dumps(manifest, indent=2) + "\n")
        admin = tmp / "admin_token"
        admin.write_text(secrets.token_urlsafe(24) + "\n")
        admin.chmod(0o600)
    return load_study(out)
