"""Emergence benchmark: does objectness emerge, and how fast, on the synthetic benchmark?

Trains AMD from scratch on the synthetic YouTube-VOS-layout videos for a budget of iterations
(`--iterations`, default the profile's: 1,611 for `cpu`) and evaluates, every `eval_every`
iterations, the J of every
channel rule (amdlib.evaluation.channels) on the synthetic DAVIS-layout validation set, beside
the centre prior. Writes `<out>/<name>/{config.json, eval.csv, log.csv, j_vs_time.png,
masks.png, checkpoint.pt}` (default out: research/runs/cpu; what was measured:
research/README.md).

    python research/emergence.py --name default                 # the cpu profile's 1,611 iterations
    python research/emergence.py --name r18 --backbone resnet18 --minutes 60   # 60: a time guard, not a budget
    python research/emergence.py --summarize      # one table of every run under --out
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout too

from amdlib import AMDConfig  # noqa: E402
from amdlib.ablations import ABLATIONS, Variant  # noqa: E402
from amdlib.config import AMP_MODES, FLOW_MASKS, PADDING_MODES, RETIRED_MODEL_OPTIONS, profile  # noqa: E402
from amdlib.data import (DAVIS2016, SyntheticConfig, YouTubeVOSPairs, generate, generate_all,  # noqa: E402
                         generate_more_davis)
from amdlib.data.scene import SceneConfig  # noqa: E402
from amdlib.evaluation.predict import vos_channel_scores  # noqa: E402
from amdlib.training.train import TrainConfig, train, training_pairs  # noqa: E402

OUT = Path(__file__).resolve().parent / "runs" / "cpu"
"""Where the CPU runs are recorded (research/README.md reads them)."""
RETIRED_TRAIN_OPTIONS = {"colour": False}
"""Training options amdlib no longer has, with their "off" value: older runs' configs hold them."""


def easy() -> SyntheticConfig:
    """An easy set-up as a dataset: 64x64, one smooth blob of radius 15-30 % centred in the
    middle 40 %, camera translation up to about 3 px and object translation up to 6 px per frame,
    no rotation, scaling, zoom, distractors, brightness change or noise. A centre prior is a
    strong baseline here: a check of the harness and a curriculum's first phase
    (`--warmup-data easy`), not the benchmark (research/README.md, rounds 1-2)."""
    scene = SceneConfig(
        image_size=(64, 64), num_objects=(1, 1), num_distractors=(0, 0), shapes=("blob",),
        placement="center", object_speed=6 / 64, object_turn=0.0, object_rotation=0.0,
        object_scale_change=0.0, camera_pan=3 / 64, camera_zoom=0.0,
        brightness_change=0.0, noise_std=0.0,
    )
    return SyntheticConfig(scene=scene, youtube_videos=300, youtube_frames=8, davis_videos=10,
                           davis_frames=20, fbms_videos=2, fbms_frames=21, duts_images=48,
                           voc_train=50, voc_val=50)


def cpu_variant(**changes):
    """A preset: amdlib's `cpu_v3` with scene fields changed (generator version 4's candidate
    looks; `bg_gray_lit` became amdlib's `cpu`)."""
    return lambda: SyntheticConfig.profile("cpu_v3").replace(**changes)


RESEARCH_PRESETS = {
    "easy": easy,
    # generator v4 candidates (research/README.md, "Generator version 4"):
    "bg_gray": cpu_variant(background_textures="gray"),
    "bg_gray_lit": cpu_variant(background_textures="gray", object_shading=0.6, object_outline=0.5),
}
"""Synthetic presets only the research scripts use, beside amdlib's (`smoke`, `cpu`, `cpu_v3`)."""


def synthetic_preset(name: str) -> SyntheticConfig:
    """The synthetic preset `name`: one of amdlib's (`amdlib.data.PRESETS`) or of `RESEARCH_PRESETS`."""
    return RESEARCH_PRESETS[name]() if name in RESEARCH_PRESETS else SyntheticConfig.profile(name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name")
    parser.add_argument("--summarize", action="store_true", help="tabulate every run under --out and exit")
    parser.add_argument("--prepare-only", action="store_true",
                        help="generate the run's data and exit (the generator is not safe to run twice at once "
                             "on one folder: prepare once, then start runs side by side)")
    parser.add_argument("--profile", default="cpu", help="model + training profile to start from")
    parser.add_argument("--data", default="cpu", help="synthetic preset (smoke, cpu, cpu_v3, easy, bg_gray, bg_gray_lit)")
    parser.add_argument("--data-root", default="data/generated")
    parser.add_argument("--data-workers", type=int, default=1,
                        help="processes generating missing synthetic data (the same files for any number)")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--minutes", type=float,
                        help="time guard: the run stops with an error (checkpoint kept) when its first steps "
                             "project it past this many training minutes; the budget is --iterations")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, help="training crop and flow input size (square)")
    parser.add_argument("--crop-size", type=int,
                        help="training crop only (square): the appearance pathway sees it, the motion pathway "
                             "keeps the profile's flow_size (short side: this too unless --short-side)")
    add_pair_options(parser)
    parser.add_argument("--val-videos", type=int,
                        help="evaluate on the preset's DAVIS-layout set extended to this many videos (its first "
                             "videos are the preset's own; amdlib.data.generate_more_davis), e.g. 50")
    parser.add_argument("--eval-size", type=int,
                        help="validation frames resized to this (default: the profile's eval_size); when it "
                             "differs from the crop, the crop size is evaluated too (_at<crop>)")
    parser.add_argument("--ablation", metavar="FAMILY/VARIANT",
                        help="start from a variant of amdlib.ablations.ABLATIONS (e.g. masks/c=3, flow/dense): its "
                             "model and training overrides, under the explicit flags; one that is scored with "
                             "test-time adaptation is an evaluation, not a training, and is refused")
    parser.add_argument("--backbone")
    parser.add_argument("--num-masks", type=int)
    parser.add_argument("--head-channels", type=int)
    parser.add_argument("--head-dilation", type=int)
    parser.add_argument("--padding-mode", choices=PADDING_MODES)
    parser.add_argument("--flow-masks", choices=FLOW_MASKS,
                        help="whose masks segment each direction's flow (AMDConfig.flow_masks)")
    parser.add_argument("--lr", type=float)
    parser.add_argument("--min-lr", type=float)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--iterations", type=int)
    parser.add_argument("--eval-every", type=int)
    parser.add_argument("--ema-decay", type=float, help="evaluate a moving average of the weights (TrainConfig.ema_decay)")
    parser.add_argument("--amp", choices=AMP_MODES,
                        help="autocast the training step (TrainConfig.amp): bf16 steps faster on CPUs with AVX512-BF16/AMX")
    parser.add_argument("--frame-gap", type=int, help="frames between the two frames of a pair")
    parser.add_argument("--scale-weights", help="loss weight per output scale, finest first, e.g. 1,1,1,1,0")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-objects", type=int,
                        help="train on videos with 1..N moving objects (shorthand for --train-scene num_objects=1,N)")
    parser.add_argument("--train-videos", type=int,
                        help="number of training videos (default: the preset's; cpu: 300), in a folder of their own")
    parser.add_argument("--scene", action="append", default=[], metavar="FIELD=VALUE",
                        help="change a SceneConfig field of every generated set, e.g. num_distractors=0,0")
    parser.add_argument("--train-scene", action="append", default=[], metavar="FIELD=VALUE",
                        help="... of the training videos only (a training-data curriculum; validation unchanged)")
    parser.add_argument("--warmup-data", help="curriculum: first train on this synthetic preset (e.g. easy)")
    parser.add_argument("--warmup-scene", action="append", default=[], metavar="FIELD=VALUE",
                        help="curriculum: the first --warmup-iterations train on videos with this SceneConfig "
                             "change (on top of --scene), e.g. object_speed=0.08; then the run's own videos")
    parser.add_argument("--warmup-iterations", type=int, default=0,
                        help="... for this many iterations (with --warmup-data or --warmup-scene)")
    parser.add_argument("--dense-warmup", type=int, default=0,
                        help="curriculum: the first N iterations use dense per-pixel flow (segment_flow=False), "
                             "so the motion pathway learns correspondence before the masks enter the loss")
    parser.add_argument("--switch-iterations", type=int,
                        help="curriculum: after this many iterations continue (same run, same optimiser) "
                             "with the --switch-* settings")
    parser.add_argument("--switch-crop-size", type=int,
                        help="... appearance crop from then on (the flow input keeps its size)")
    parser.add_argument("--switch-lr", type=float, help="... constant lr from then on")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run <out>/<name> from its checkpoint, e.g. to a larger --iterations "
                             "(with the cpu profile's constant lr the longer run equals one started with that count)")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def add_pair_options(parser: argparse.ArgumentParser) -> None:
    """The training-pair options that `pair_changes` reads besides --crop-size (shared with
    supervised_ceiling.py, so that both scripts build their pairs from the same flags)."""
    parser.add_argument("--short-side", type=int,
                        help="training frames resized to this short side before the crop "
                             "(TrainConfig.short_side; emergence.py: default --size, else the profile's)")
    parser.add_argument("--scale-min", type=float,
                        help="short side drawn from [scale-min, 1] x short side (TrainConfig.scale_min): with a "
                             "short side above the crop, a zoom augmentation")
    parser.add_argument("--flip", action=argparse.BooleanOptionalAction,
                        help="random horizontal flips (default: the profile's TrainConfig.flip)")


def pair_changes(args: argparse.Namespace) -> dict:
    """TrainConfig changes of the training pairs from --crop-size (its short side too), --short-side,
    --scale-min and --flip/--no-flip (`add_pair_options`); unset options keep the profile's
    (shared with supervised_ceiling.py)."""
    changes = {}
    if args.crop_size:
        changes.update(crop_size=(args.crop_size, args.crop_size), short_side=args.crop_size)
    if args.short_side:
        changes["short_side"] = args.short_side
    if args.scale_min:
        changes["scale_min"] = args.scale_min
    if args.flip is not None:
        changes["flip"] = args.flip
    return changes


def ablation_variant(name: str, profile_name: str) -> Variant:
    """The trainable variant `FAMILY/VARIANT` of `ABLATIONS` under `profile_name`; SystemExit names a
    bad one."""
    family, _, variant = name.partition("/")
    matches = [v for v in ABLATIONS.get(family, []) if v.name == variant]
    if not matches:
        choices = ", ".join(f"{f}/{v.name}" for f, variants in ABLATIONS.items() for v in variants if not v.tta)
        raise SystemExit(f"--ablation {name}: no such variant; choose from {choices}")
    if matches[0].tta or not matches[0].applies_to(profile(profile_name)):
        raise SystemExit(f"--ablation {name}: not a training of the {profile_name} profile "
                         "(test-time adaptation is scored on a trained model; some variants are for one profile)")
    return matches[0]


def configs(args: argparse.Namespace) -> tuple[AMDConfig, TrainConfig]:
    variant = ablation_variant(args.ablation, args.profile) if args.ablation else Variant("profile")
    model = {k: v for k, v in {"backbone": args.backbone, "num_masks": args.num_masks,
                                "head_channels": args.head_channels, "head_dilation": args.head_dilation,
                                "padding_mode": args.padding_mode,
                                "flow_masks": args.flow_masks}.items() if v is not None}
    model = {**variant.model, **model}
    if args.scale_weights:
        model["scale_weights"] = tuple(float(w) for w in args.scale_weights.split(","))
    if args.size:
        model["flow_size"] = (args.size, args.size)
    schedule = {k: v for k, v in {"lr": args.lr, "min_lr": args.min_lr, "batch_size": args.batch_size,
                                   "iterations": args.iterations, "eval_every": args.eval_every,
                                   "frame_gap": args.frame_gap, "ema_decay": args.ema_decay,
                                   "amp": args.amp}.items()
                if v is not None}
    if args.size:
        schedule.update(crop_size=(args.size, args.size), short_side=args.size)
    schedule = {**variant.train, **schedule, **pair_changes(args)}
    schedule["seed"] = args.seed
    return AMDConfig.profile(args.profile, **model), TrainConfig.profile(args.profile, **schedule)


def evaluation_size(args: argparse.Namespace) -> int:
    """The (square) size validation frames are resized to: --eval-size, else the profile's."""
    return args.eval_size or profile(args.profile).eval_size[0]


def switched_schedule(args: argparse.Namespace, schedule: TrainConfig) -> TrainConfig:
    """The training run of a run's second phase (`--switch-*`); the model does not change."""
    if args.switch_crop_size:
        schedule = schedule.replace(crop_size=(args.switch_crop_size, args.switch_crop_size),
                                    short_side=args.switch_crop_size)
    if args.switch_lr:
        schedule = schedule.replace(lr=args.switch_lr, min_lr=args.switch_lr)
    return schedule


def data_variant(data_root: Path, preset: str, changes: dict, videos: int | None = None) -> tuple[Path, SyntheticConfig]:
    """(folder, generator config) of the training videos of `preset` under `data_root`: its scene
    changes and, when given, another number of videos, each variant in a folder of its own (shared
    by every script that asks for the same variant)."""
    folder = variant_folder(data_root, preset, changes)
    config = with_scene(synthetic_preset(preset), changes)
    if videos:
        folder = folder.with_name(f"{folder.name}_videos{videos}")
        config = config.replace(youtube_videos=videos)
    return folder, config


def relabel_checkpoint(path: Path, model: AMDConfig) -> None:
    """Record `model` as the config of the training checkpoint at `path` (atomically), so that the
    next phase of a curriculum, whose config differs only in settings without parameters,
    resumes from it (`train` refuses a checkpoint written with another config)."""
    from amdlib.io.checkpoint import atomic_torch_save

    state = torch.load(path, weights_only=True)
    state["config"] = model.to_dict()
    atomic_torch_save(state, path)


def forget_training_videos(path: Path) -> None:
    """Drop the videos' fingerprint from the training checkpoint at `path` (atomically), so that a
    curriculum's next phase resumes it on other videos (`train` refuses that otherwise)."""
    from amdlib.io.checkpoint import atomic_torch_save

    state = torch.load(path, weights_only=True)
    if state.pop("data_fingerprint", None) is not None:
        atomic_torch_save(state, path)


def training_data(args: argparse.Namespace, preset: str, changes: dict) -> tuple[Path, SyntheticConfig]:
    """`data_variant` of a run's training videos: `--train-videos` applies to the run's own
    preset, not to a warm-up's."""
    return data_variant(Path(args.data_root), preset, changes, args.train_videos if preset == args.data else None)


def scene_changes(items: list[str]) -> dict:
    """["num_distractors=0,0", "object_speed=0.08"] -> {"num_distractors": (0, 0), "object_speed": 0.08}."""
    changes = {}
    for item in items:
        field_name, _, value = item.partition("=")
        changes[field_name] = ast.literal_eval(value)
    return changes


def with_scene(config: SyntheticConfig, changes: dict) -> SyntheticConfig:
    return config.replace(scene=dataclasses.replace(config.scene, **changes)) if changes else config


def variant_folder(root: Path, preset: str, changes: dict) -> Path:
    """A data folder per (preset, scene changes), so that variants never overwrite each other."""
    if not changes:
        return root / preset
    digest = hashlib.sha1(repr(sorted(changes.items())).encode()).hexdigest()[:8]
    return root / f"{preset}_scene-{digest}"


def plot(eval_csv: Path, out_png: Path, title: str) -> None:
    import pandas as pd

    from amdlib.reports.figures import j_versus_time
    from amdlib.reports.tables import save_figure

    save_figure(j_versus_time(pd.read_csv(eval_csv), title), out_png)


def write_run_configs(run: Path, model: AMDConfig, schedule: TrainConfig, arguments: list[str] | None = None,
                      eval_size: int | None = None) -> None:
    """`<run>/config.json`: the run's settings, small enough to commit (checkpoints are not), the
    evaluation size, and the command-line arguments, which also name the data (scene changes,
    number of videos) and any second phase."""
    from amdlib.io.atomic import write_json

    settings = {"model": model.to_dict(), "train": schedule.to_dict()}
    if eval_size is not None:
        settings["eval_size"] = eval_size
    if arguments is not None:
        settings["arguments"] = arguments
    write_json(run / "config.json", settings)


def run_configs(run: Path) -> tuple[dict, dict]:
    """(model config, train config) of a run, from config.json or else its checkpoint."""
    if (run / "config.json").exists():
        settings = json.loads((run / "config.json").read_text())
        return settings["model"], settings["train"]
    state = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=False)
    return state["config"], state["train_config"]


def run_eval_size(run: Path, schedule: dict) -> int:
    """The size a run's validation frames were resized to: its config.json's `eval_size`, else
    the `eval_size` older runs stored in their train config, else the training crop."""
    path = run / "config.json"
    recorded = json.loads(path.read_text()).get("eval_size") if path.exists() else None
    if recorded is None:
        recorded = (schedule.get("eval_size") or schedule["crop_size"])[0]
    return int(recorded)


def retired_options(model: dict, schedule: dict) -> str:
    """The options amdlib no longer has that a run's recorded configs switch on, e.g.
    "colour=True" ("" for none): older runs measured them (research/README.md)."""
    active = [f"{name}={values[name]}"
              for table, values in ((RETIRED_MODEL_OPTIONS, model), (RETIRED_TRAIN_OPTIONS, schedule))
              for name, inactive in table.items() if name in values and values[name] != inactive]
    return " ".join(active)


def recorded_arguments(run: Path) -> argparse.Namespace | None:
    """The command line a run recorded in its config.json, parsed; None when it recorded none."""
    path = run / "config.json"
    arguments = json.loads(path.read_text()).get("arguments") if path.exists() else None
    if arguments is None:
        return None
    return build_parser().parse_known_args(arguments)[0]  # known options; notes left aside


def validation_videos(run: Path) -> int | None:
    """How many DAVIS-layout videos a run was evaluated on: its --val-videos, else its preset's
    own count; None when the run recorded no command line."""
    recorded = recorded_arguments(run)
    if recorded is None:
        return None
    return recorded.val_videos or synthetic_preset(recorded.data).davis_videos


def data_changes(run: Path) -> str:
    """What a run changed in its synthetic data, from its command line ("" for the preset as
    it is): `--scene` (every set), `--train-scene`, `--train-objects`, `--train-videos`,
    `--warmup-scene` (with its `--warmup-iterations`)."""
    recorded = recorded_arguments(run)
    if recorded is None:
        return ""
    changes = [f"all {change}" for change in recorded.scene] + [f"train {change}" for change in recorded.train_scene]
    if recorded.train_objects is not None:
        changes.append(f"train num_objects=1,{recorded.train_objects}")
    if recorded.train_videos is not None:
        changes.append(f"train videos={recorded.train_videos}")
    if recorded.warmup_scene and recorded.warmup_iterations > 0:
        changes.append(f"first {recorded.warmup_iterations} it. {' '.join(recorded.warmup_scene)}")
    return "; ".join(changes)


def plot_masks(model, validation, size: tuple[int, int], out_png: Path, count: int = 10) -> None:
    """Every mask channel and the segment flow on the middle frame of `count` validation videos."""
    from amdlib.reports.figures import masks_and_flow, middle_frame_pairs, predict_pairs
    from amdlib.reports.tables import save_figure

    frames, truths = middle_frame_pairs(validation, count, size)
    masks, flows = predict_pairs(model, frames)
    save_figure(masks_and_flow(frames[:, 0], masks, flows, truths), out_png)


def summarize(out: Path) -> None:
    """`<out>/summary.{csv,md}`: per run, the settings that differ between runs and J at the end
    and at its best, beside the centre prior."""
    import pandas as pd

    from amdlib.reports.tables import write_table

    rows = []
    for run in sorted(p for p in out.iterdir() if (p / "eval.csv").exists()):
        evaluations = pd.read_csv(run / "eval.csv")
        model, schedule = run_configs(run)
        last = evaluations.iloc[-1]
        rows.append({
            "run": run.name, "backbone": model["backbone"], "c": model["num_masks"],
            "size": schedule["crop_size"][0], "short side": schedule["short_side"],
            "scale min": schedule.get("scale_min", 0.96), "flip": schedule.get("flip", False),
            "eval size": run_eval_size(run, schedule),
            "val videos": validation_videos(run) or "", "gap": schedule.get("frame_gap", 1), "batch": schedule["batch_size"],
            "padding": model.get("padding_mode", "zeros"), "flow masks": model.get("flow_masks", "source"),
            "head dilation": model["head_dilation"], "retired options": retired_options(model, schedule),
            "data changes": data_changes(run),
            "ema": schedule.get("ema_decay", 0.0), "amp": schedule.get("amp", "none"),
            "lr": f"{schedule['lr']:g}" + ("" if schedule["min_lr"] == schedule["lr"] else f" -> {schedule['min_lr']:g}"),
            "iterations": int(last["iteration"]), "minutes": round(last["train_seconds"] / 60, 1),
            "J best channel (end)": last["J_best_channel"], "J best channel (max)": evaluations["J_best_channel"].max(),
            "J smallest area (end)": last["J_smallest_area"], "J oracle frame (end)": last["J_oracle_frame"],
            "J centre prior": last["J_centre_prior"],
        })
    write_table(pd.DataFrame(rows), out / "summary")
    print((out / "summary.md").read_text())


def validation_folder(davis2016: Path, data_config: SyntheticConfig | str, videos: int | None,
                      workers: int = 1) -> Path:
    """The DAVIS-layout set runs are scored on: the preset's own (`videos` None) or the preset's
    set with `videos` videos, its own first (`amdlib.data.generate_more_davis`)."""
    if videos is None:
        return davis2016
    return generate_more_davis(davis2016.parent, data_config, videos, workers=workers)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.summarize:
        summarize(Path(args.out))
        return
    if not args.name and not args.prepare_only:
        raise SystemExit("--name is required (or --summarize, --prepare-only)")
    if args.resume and (args.warmup_data or args.warmup_iterations or args.dense_warmup
                        or args.switch_iterations is not None):
        raise SystemExit("--resume continues a one-phase run; it cannot be combined with a warm-up or a switch")
    if bool(args.warmup_scene or args.warmup_data) != (args.warmup_iterations > 0):
        raise SystemExit("--warmup-scene (or --warmup-data) and --warmup-iterations go together: what the first N "
                         "iterations train on, and N")
    if args.warmup_scene and args.warmup_data:
        raise SystemExit("--warmup-scene and --warmup-data are two warm-ups: choose one")
    torch.set_num_threads(args.threads)
    model_config, train_config = configs(args)
    every_set, training_only = scene_changes(args.scene), scene_changes(args.train_scene)
    if args.train_objects is not None:
        training_only["num_objects"] = (1, args.train_objects)
    training = {**every_set, **training_only}

    def pairs_of(preset: str, schedule: TrainConfig = train_config, changes: dict = training) -> YouTubeVOSPairs:
        youtube = generate("youtube_vos", *training_data(args, preset, changes), workers=args.data_workers)
        return training_pairs(youtube, youtube / "train.txt", schedule)

    warmup_scene = {**every_set, **scene_changes(args.warmup_scene)}

    data_config = with_scene(synthetic_preset(args.data), every_set)
    datasets = generate_all(variant_folder(Path(args.data_root), args.data, every_set), data_config,
                            workers=args.data_workers)
    validation_root = validation_folder(datasets.davis2016, data_config, args.val_videos, args.data_workers)
    if args.prepare_only:  # everything a run reads, so that runs side by side never generate
        for preset in filter(None, (args.data, args.warmup_data)):
            pairs_of(preset)
        if args.warmup_iterations > 0:
            pairs_of(args.data, changes=warmup_scene)
        return
    validation = DAVIS2016(validation_root)
    eval_size = evaluation_size(args)
    out_dir = Path(args.out) / args.name
    print(f"{args.name}: {model_config}\n{train_config}", flush=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_run_configs(out_dir, model_config, train_config, sys.argv[1:] if argv is None else argv, eval_size)

    crop = train_config.crop_size[0]

    def evaluate(model):
        row = vos_channel_scores(model, validation, (eval_size, eval_size)).as_row()
        if crop != eval_size:
            at_crop = vos_channel_scores(model, validation, (crop, crop), motion_contrast=False).as_row()
            row.update({f"{key}_at{crop}": value for key, value in at_crop.items()})
        print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
        return row

    guard = None if args.minutes is None else 60 * args.minutes
    if args.warmup_data:  # phase 1 of a curriculum: another preset's videos; phase 2 resumes from it
        train(model_config, train_config, pairs_of(args.warmup_data), out_dir, evaluate=evaluate,
              stop_after=args.warmup_iterations, progress=False, time_guard=guard)
        forget_training_videos(out_dir / "checkpoint.pt")
    elif args.warmup_iterations > 0:  # phase 1: other training videos (--warmup-scene); phase 2 resumes
        train(model_config, train_config, pairs_of(args.data, changes=warmup_scene), out_dir, evaluate=evaluate,
              stop_after=args.warmup_iterations, progress=False)
        forget_training_videos(out_dir / "checkpoint.pt")
    if args.dense_warmup > 0:  # phase 1: dense flow; phase 2 continues from its weights and optimiser
        dense = model_config.replace(segment_flow=False)
        train(dense, train_config, pairs_of(args.data), out_dir, progress=False,
              stop_after=args.dense_warmup)
        relabel_checkpoint(out_dir / "checkpoint.pt", model_config)  # same parameters (SegmentFlowHead.per_pixel)
    resume = bool(args.resume or args.warmup_data or args.warmup_iterations or args.dense_warmup)
    if args.switch_iterations is not None:  # phase 1 of a schedule curriculum; phase 2 below resumes from it
        train(model_config, train_config, pairs_of(args.data), out_dir, evaluate=evaluate,
              stop_after=args.switch_iterations, progress=False, resume=resume, time_guard=guard)
        train_config = switched_schedule(args, train_config)
        resume = True
    result = train(model_config, train_config, pairs_of(args.data, train_config), out_dir, evaluate=evaluate,
                   time_guard=guard, progress=False, resume=resume)
    plot(out_dir / "eval.csv", out_dir / "j_vs_time.png", args.name)
    plot_masks(result.model, validation, (eval_size, eval_size), out_dir / "masks.png")


if __name__ == "__main__":
    main()
