"""What `amdlib.io.download` fetches: the real datasets and the authors' released checkpoint.

`RESOURCES` holds one `Resource` per name (`amd download list` shows them): its files (links,
published digests, how to unpack them), the folder under the root it goes to, the folders its
archives must hold (`Resource.layout`) and how amdlib reads the result. The default root is
`<repo>/data/real` (`DEFAULT_ROOT`), each resource in `<root>/<subfolder>/`.

Checksums policy: a digest is written here only where it is published (PASCAL VOC 2012's md5,
the one torchvision also checks). Nothing else is invented: for a file without a published
digest the download is kept and its computed sha256 is printed; `amd download fetch NAME
--sha256 HEX` (or `--md5 HEX`) pins the value you recorded.

YouTube-VOS 2019 (the training videos) sits behind a CodaLab sign-in and is never downloaded;
`youtube_vos_instructions` says where to put it by hand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "data" / "real"
"""Where the command line puts real data by default: <repo>/data/real/<name>/ (this file is
<repo>/amdlib/io/resources.py)."""

UnpackKind = Literal["zip", "tar", "none"]


@dataclass(frozen=True)
class RemoteFile:
    """One file of a resource: where it comes from and how to check and unpack it."""

    filename: str
    """Name the file is saved under (kept even when `--url` points elsewhere)."""
    url: str | None
    """Direct link; None where no non-interactive link exists (pass `--url`)."""
    sha256: str | None = None
    """Published sha256, lower-case hex; None where none is published."""
    md5: str | None = None
    """Published md5, lower-case hex; None where none is published."""
    unpack: UnpackKind = "zip"
    page: str = ""
    """Web page a person can get the file from (when `url` is None or has moved)."""


@dataclass(frozen=True)
class Resource:
    """A dataset or checkpoint: its files, its folder under the root, and how amdlib reads it."""

    name: str
    title: str
    files: tuple[RemoteFile, ...]
    subfolder: str
    """Target folder, relative to the root."""
    loader: str
    """How to read the fetched data with amdlib (`<root>` stands for the root)."""
    notes: str = ""
    layout: tuple[str, ...] = ()
    """Paths (relative to the target folder) the unpacked archives must hold before the fetch
    counts as done: what the loader reads."""

    def __post_init__(self) -> None:
        kinds = {f.unpack == "none" for f in self.files}
        if not self.files or len(kinds) != 1:
            raise ValueError(f"resource {self.name!r}: files must be all archives or all plain files")

    @property
    def is_archive(self) -> bool:
        return self.files[0].unpack != "none"


_YTVOS_SPLIT_PAGE = "https://drive.google.com/file/d/15JX--24eHgM2OK4AK75teZTEiYgrrS8m/view?usp=sharing"
_AMD_REPO = "https://github.com/rt219/The-Emergence-of-Objectness"

RESOURCES: dict[str, Resource] = {r.name: r for r in (
    Resource(
        "davis2016", "DAVIS-2016 (480p, train + val, 50 sequences)",
        (RemoteFile("DAVIS-data.zip", "https://graphics.ethz.ch/Downloads/Data/Davis/DAVIS-data.zip",
                    page="https://davischallenge.org/davis2016/code.html"),),
        "davis2016", 'amdlib.data.DAVIS2016("<root>/davis2016/DAVIS", split="val")',
        "The archive unpacks to DAVIS/ with JPEGImages/480p, Annotations/480p and ImageSets/480p.",
        ("DAVIS/JPEGImages/480p", "DAVIS/Annotations/480p", "DAVIS/ImageSets/480p")),
    Resource(
        "segtrackv2", "SegTrackv2 (14 sequences)",
        (RemoteFile("SegTrackv2.zip", "https://web.engr.oregonstate.edu/~lif/SegTrack2/SegTrackv2.zip",
                    page="https://web.engr.oregonstate.edu/~lif/SegTrack2/dataset.html"),),
        "segtrackv2", 'amdlib.data.DAVISLike("<root>/segtrackv2/SegTrackv2", annotations="GroundTruth")',
        "Unpacks to SegTrackv2/ (JPEGImages/, GroundTruth/). Multi-object sequences keep one mask "
        "folder per object: `python -m amdlib.cli.convert segtrackv2 <root>/segtrackv2/SegTrackv2 DEST` "
        "merges them into DEST/Annotations/<seq>/ (read with DAVISLike(DEST)).",
        ("SegTrackv2/JPEGImages", "SegTrackv2/GroundTruth")),
    Resource(
        "fbms59", "FBMS-59 (Freiburg-Berkeley Motion Segmentation, train + test)",
        tuple(RemoteFile(f"FBMS_{part}.zip",
                         f"https://lmb.informatik.uni-freiburg.de/resources/datasets/fbms/FBMS_{part}.zip",
                         page="https://lmb.informatik.uni-freiburg.de/resources/datasets/moseg.en.html")
              for part in ("Trainingset", "Testset")),
        "fbms59", 'amdlib.data.DAVISLike("DEST") after `python -m amdlib.cli.convert fbms <root>/fbms59 DEST`',
        "Two archives (Trainingset/, Testset/: one folder per sequence, sparse ground truth every "
        "~20th frame, colour label maps on a white background). `python -m amdlib.cli.convert fbms` rearranges "
        "them into JPEGImages/<seq>/ + Annotations/<seq>/ for DAVISLike. If the links have moved, "
        "pass the two URLs from the page with --url twice, in this order.",
        ("Trainingset", "Testset")),
    Resource(
        "duts_te", "DUTS-TE (5,019 saliency test images)",
        (RemoteFile("DUTS-TE.zip", "http://saliencydetection.net/duts/download/DUTS-TE.zip",
                    page="http://saliencydetection.net/duts/"),),
        "duts_te", 'amdlib.data.DUTSTE("<root>/duts_te/DUTS-TE")',
        "Unpacks to DUTS-TE/ with DUTS-TE-Image/ and DUTS-TE-Mask/.",
        ("DUTS-TE/DUTS-TE-Image", "DUTS-TE/DUTS-TE-Mask")),
    Resource(
        "voc2012", "PASCAL VOC 2012 trainval (segmentation)",
        (RemoteFile("VOCtrainval_11-May-2012.tar",
                    "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
                    md5="6cd6e144f989b92b3379bac3b3de84fd", unpack="tar",
                    page="http://host.robots.ox.ac.uk/pascal/VOC/voc2012/"),),
        "voc2012", 'amdlib.data.VOC2012("<root>/voc2012", split="val")',
        "Unpacks to VOCdevkit/VOC2012/. The md5 is the one published with the dataset.",
        ("VOCdevkit/VOC2012/JPEGImages", "VOCdevkit/VOC2012/SegmentationClass",
         "VOCdevkit/VOC2012/ImageSets/Segmentation")),
    Resource(
        "amd_checkpoint", "AMD released model (YouTube-VOS trained, amd_pretrained.pth)",
        (RemoteFile("amd_pretrained.pth",
                    "https://frontiers.blob.core.windows.net/pretraining/checkpoints/amd_pretrained.pth",
                    unpack="none", page=_AMD_REPO),),
        "amd_checkpoint", 'amdlib.load_checkpoint("<root>/amd_checkpoint/amd_pretrained.pth")',
        "The link is the one in the authors' README. If it no longer answers, get the file by hand "
        "and pass --url file:///absolute/path/amd_pretrained.pth."),
    Resource(
        "youtube_vos_split", "YouTube-VOS 2019 train split of the authors (ytb_2019.txt)",
        (RemoteFile("ytb_2019.txt", None, unpack="none", page=_YTVOS_SPLIT_PAGE),),
        "youtube_vos",
        'amdlib.data.YouTubeVOSPairs("<root>/youtube_vos", "<root>/youtube_vos/ytb_2019.txt")',
        "Google Drive asks a person to click through, so there is no direct link: download it in a "
        "browser, then fetch it with --url file:///absolute/path/ytb_2019.txt."),
)}
"""Every downloadable resource by name (`amd download list`)."""


# ----------------------------------------------------------------------------------------------
# YouTube-VOS: by hand


def youtube_vos_instructions(root: str | os.PathLike = DEFAULT_ROOT) -> str:
    """What to do for YouTube-VOS 2019, which only a signed-in person can download."""
    base = Path(root) / "youtube_vos"
    return f"""\
YouTube-VOS 2019 (the training videos) cannot be downloaded by a script: it needs a CodaLab
account and accepting the dataset's terms (see https://youtube-vos.org/dataset/ for the 2019
challenge page on CodaLab).

1. Sign in, accept the terms and download the 2019 training set with all frames
   (train_all_frames).
2. Unpack it so that the frames lie at
       {base}/train_all_frames/JPEGImages/<video>/<frame>.jpg
3. The authors' split file ytb_2019.txt is on Google Drive
   ({_YTVOS_SPLIT_PAGE}); download it in a browser, then
       amd download fetch youtube_vos_split --root {root} --url file:///absolute/path/ytb_2019.txt
   which puts it at {base}/ytb_2019.txt. Each line is
       train_all_frames/JPEGImages/<video> 00000.jpg 00001.jpg ...
   Without a split file every video folder under train_all_frames/JPEGImages is used.
4. Read it with
       amdlib.data.YouTubeVOSPairs("{base}", "{base}/ytb_2019.txt")
   or train on it:
       python -m amdlib.training.train --profile paper --data-root {base} --split {base}/ytb_2019.txt
"""
