"""``grayscan classify``, ``eval`` and ``train``: the classify contract, evaluation and model training."""

from __future__ import annotations

import json

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.console import Group
from rich.table import Table

from .options import console, fail, lexicon_option, model_option
from .output import emit, resolve_format
from .records import FORMATS, open_input, read_records, transform_records

#: Records classified per model call in ``classify``.
BATCH = 64

def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=console, transient=False)


def _load_classifier(lexicon_files: tuple[str, ...], model_path: str | None, lexicon_only: bool = False):
    from classifier import DEFAULT_MODEL, Classifier, ModelError
    from lexicon import LexiconError

    if not lexicon_only:  # a few seconds with nothing on screen would look like a hang
        console.print(f"loading model {model_path or 'bundled'}…", style="dim")
    try:
        return Classifier(lexicon_files=lexicon_files, model=None if lexicon_only else (model_path or DEFAULT_MODEL))
    except (LexiconError, ModelError) as exc:
        fail(str(exc))


@click.command()
@click.option("--input", "-i", "input_path", default="-", show_default=True, help="Input file, - for stdin.")
@click.option("--output", "-o", "output_path", default="-", show_default=True, help="Output JSON Lines, - for stdout.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True,
              help="Input format; auto looks at the file name, then the first line.")
@lexicon_option
@model_option
@click.option("--lexicon-only", is_flag=True, help="Skip the model: the lexicon-only baseline policy.")
def classify(input_path: str, output_path: str, fmt: str, lexicon_files: tuple[str, ...], model_path: str | None,
             lexicon_only: bool) -> None:
    """Tier each post as level1 / level2 abnormal rights defense, or none.

    IN holds JSON Lines objects with "text" and an optional "id" (other keys pass through),
    plain text (one post per line) or CSV with a "text" column. OUT gets one JSON object per
    record, in order: id, line, tier, score (0..1), reasons, matches and contacts (with start/end
    offsets in the original text). A malformed record yields {"line": N, "error": ...} and the
    run goes on; the exit code is 1 when any record failed.

    \b
    Example:
      echo '{"id": 1, "text": "专业征信修复，加V：abc12345"}' | grayscan classify
    """
    clf = _load_classifier(lexicon_files, model_path, lexicon_only)
    transform_records(input_path, output_path, fmt, lambda texts: [d.to_dict() for d in clf.classify(texts)],
                      verb="classified", batch_size=BATCH)


def _labelled_records(path: str, fmt: str) -> tuple[list[dict], list[str], int]:
    """Records with text and a valid label, a message per unusable record, and how many were not
    scored on purpose (borderline or exposed)."""
    from classifier.evaluate import scored
    from classifier.model import LABELS

    records, problems, unscored = [], [], 0
    try:
        source = open_input(path)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    with source:
        try:
            for record in read_records(source, fmt, path):
                if record.error:
                    problems.append(f"line {record.line}: {record.error}")
                    continue
                if not scored(record.data):
                    unscored += 1
                    continue
                label = str(record.data.get("label", "")).strip().lower()
                if label not in LABELS:
                    problems.append(f"line {record.line}: label {record.data.get('label')!r} is not one of {', '.join(LABELS)}")
                    continue
                records.append({**record.data, "text": record.data["text"], "label": label})
        except ValueError as exc:
            fail(str(exc))
    return records, problems, unscored


@click.command("eval")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False),
              help="Labelled records: JSON Lines or CSV with text and label (level1 | level2 | none).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True)
@lexicon_option
@model_option
@click.option("--errors", "show_errors", default=0, show_default=True, help="Print up to N misclassified posts.")
@click.option("--json", "json_path", default=None, type=click.Path(dir_okay=False), help="Also write the metrics as JSON.")
def evaluate_command(data_path: str, fmt: str, lexicon_files: tuple[str, ...], model_path: str | None,
                     show_errors: int, json_path: str | None) -> None:
    """Score the classifier on labelled records, next to the lexicon-only baseline.

    Prints precision, recall and F1 for actionable (level1 or level2 vs none), tier accuracy,
    the share of none posts kept none, a breakdown by the records' provenance and ``kind``, and a
    tier confusion matrix for both: tables when stdout is a terminal, otherwise TSV with one
    (section, name, classifier, value) row per figure. Records labelled ``borderline`` or marked
    ``exposed`` are not scored, so real-post sets (e.g. ../shared/eval/real_dev.jsonl) are read as they are.

    \b
    Example:
      grayscan eval --data classifier/data/test.jsonl
    """
    from classifier.evaluate import evaluate
    from classifier.model import LABELS

    records, problems, unscored = _labelled_records(data_path, fmt)
    if unscored:
        console.print(f"not scored: {unscored} borderline or exposed records")
    for problem in problems[:10]:
        console.print(f"[yellow]skipped[/yellow] {problem}")
    if len(problems) > 10:
        console.print(f"[yellow]skipped {len(problems) - 10} more records[/yellow]")
    if not records:
        fail(f"{data_path}: no records with text and a label in {', '.join(LABELS)}")
    model = _load_classifier(lexicon_files, model_path)
    baseline = _load_classifier(lexicon_files, None, lexicon_only=True)
    with _progress() as progress:
        task = progress.add_task("evaluate", total=len(records), info="")
        scores = evaluate([model, baseline], records, on_batch=lambda n: progress.advance(task, n))

    emit(_figures(scores), resolve_format(None), ["section", "name", "classifier", "value"],
         table=lambda: Group(*_evaluation_tables(scores, f"{data_path}: {len(records)} records")))
    for gold, predicted, text in scores[0].errors[:show_errors]:
        console.print(f"[red]{gold} → {predicted}[/red] {text[:160]}", markup=True, highlight=False)
    if json_path:
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump({"data": data_path, "skipped": len(problems), "results": [s.to_dict() for s in scores]},
                      f, ensure_ascii=False, indent=2)


SUMMARY = (("actionable precision", "precision"), ("actionable recall", "recall"), ("actionable F1", "f1"),
           ("tier accuracy", "tier_accuracy"), ("none kept none", "none_kept"))


def _figures(scores: list) -> list[dict]:
    """Every figure of ``scores`` as one (section, name, classifier, value) row."""
    from classifier.model import LABELS

    rows = []
    for s in scores:
        rows += [{"section": "summary", "name": label, "classifier": s.name, "value": round(getattr(s, attr), 4)}
                 for label, attr in SUMMARY]
        for name, part in s.subsets.items():
            rows += [{"section": f"subset {name}", "name": label, "classifier": s.name,
                      "value": round(getattr(part, attr), 4)} for label, attr in (("records", "total"), *SUMMARY)]
        rows += [{"section": "confusion", "name": f"gold {gold} → {predicted}", "classifier": s.name,
                  "value": s.confusion[gold][predicted]} for gold in LABELS for predicted in LABELS]
    return rows


def _evaluation_tables(scores: list, title: str) -> list[Table]:
    """The summary, the subsets (when the records name any) and a confusion matrix per classifier."""
    from classifier.model import LABELS

    summary = Table(title=title)
    summary.add_column("metric")
    for s in scores:
        summary.add_column(s.name, justify="right")
    for label, attr in SUMMARY:
        summary.add_row(label, *(f"{getattr(s, attr):.3f}" for s in scores))
    tables = [summary]
    subset_names = list(dict.fromkeys(name for s in scores for name in s.subsets))
    if subset_names:
        subsets = Table(title="subsets (from the records' provenance fields)")
        subsets.add_column("subset")
        subsets.add_column("records", justify="right")
        for s in scores:
            subsets.add_column(f"{s.name} F1 / none kept", justify="right")
        for name in subset_names:
            parts = [s.subsets.get(name) for s in scores]
            subsets.add_row(name, str(parts[0].total if parts[0] else 0),
                            *(_f1_and_none_kept(p) for p in parts))
        tables.append(subsets)
    for s in scores:
        matrix = Table(title=f"confusion ({s.name}): rows gold, columns predicted")
        matrix.add_column("gold")
        for label in LABELS:
            matrix.add_column(label, justify="right")
        for gold in LABELS:
            matrix.add_row(gold, *(str(s.confusion[gold][p]) for p in LABELS))
        tables.append(matrix)
    return tables


def _f1_and_none_kept(scores) -> str:
    """"F1 / none kept" for a subset, a dash where the subset has no posts of that kind."""
    if scores is None:
        return "-"
    has_actionable = any(scores.confusion[g][p] for g in ("level1", "level2") for p in scores.confusion[g])
    has_none = any(scores.confusion["none"].values())
    return f"{f'{scores.f1:.3f}' if has_actionable else '-'} / {f'{scores.none_kept:.3f}' if has_none else '-'}"


@click.command()
@click.option("--output", "-o", "output", required=True, type=click.Path(file_okay=False),
              help="Directory for the trained model (save_pretrained format).")
@click.option("--base", default=None, help="Fine-tune this local checkpoint (path or cached hub id, e.g. hfl/rbt3) "
              "instead of training a small BERT from scratch.")
@click.option("--extra", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Extra labelled JSONL (text + label), e.g. from `grayscan queue export-labels` (repeatable).")
@click.option("--epochs", type=click.IntRange(1), default=None, help="Epochs (default 4 from scratch, 3 with --base).")
@click.option("--seed", type=int, default=None, help="Random seed (default 20240417; runs are deterministic).")
@click.option("--max-steps", type=click.IntRange(1), default=None, help="Stop after this many optimizer steps.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Train on a random subset of this many corpus records.")
def train(output: str, base: str | None, extra: tuple[str, ...], epochs: int | None, seed: int | None,
          max_steps: int | None, limit: int | None) -> None:
    """Train the classifier model on the bundled corpus (plus --extra records) into OUTPUT.

    From scratch this builds a WordPiece tokenizer and a 2-layer, 128-wide BERT, then fits the
    character n-gram model and the ensemble's calibration beside it (6-10 minutes on 2 cores).
    Point grayscan at the result with `grayscan classify --model OUTPUT`, or rebuild the bundled
    model with `grayscan train --output classifier/model`.
    """
    from classifier.train import TrainConfig, TrainingError
    from classifier.train import train as run_training

    cfg = TrainConfig(max_steps=max_steps, limit=limit)
    cfg.epochs = epochs or (3 if base else cfg.epochs)
    cfg.seed = cfg.seed if seed is None else seed
    console.print(f"[bold]train[/bold] {'fine-tuning ' + base if base else 'from scratch'} → {output}"
                  + (f" (+{len(extra)} extra file(s))" if extra else ""))
    with _progress() as progress:
        task = progress.add_task("train", total=None, info="")

        def on_step(step: int, total: int, loss: float) -> None:
            progress.update(task, completed=step, total=total, info=f"loss {loss:.3f}")

        def on_epoch(epoch: int, metrics: dict) -> None:
            progress.console.print(f"epoch {epoch}: dev accuracy {metrics['accuracy']:.3f}, "
                                   f"actionable P {metrics['precision']:.3f} R {metrics['recall']:.3f} F1 {metrics['f1']:.3f}")

        try:
            report = run_training(output, base=base, extra=extra, cfg=cfg, on_step=on_step, on_epoch=on_epoch)
        except TrainingError as exc:
            fail(str(exc))
    console.print(f"trained {report.steps} steps on {report.train_records} corpus + {report.extra_records} extra "
                  f"records in {report.seconds:.0f}s; model saved to {output}")
    console.print("calibration: " + ", ".join(f"{k} {v}" for k, v in report.calibration.items()))


COMMANDS = [classify, evaluate_command, train]
