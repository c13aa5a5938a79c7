"""Names for generated people and places: pinyin, as Chongqing's rosters would show them.

Drawn with the caller's generator, so a city's names are fixed by its seed.

>>> import numpy as np
>>> len(person_names(np.random.default_rng(1), 3))
3
"""

from __future__ import annotations

import numpy as np

SURNAMES = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu",
    "Hu", "Guo", "He", "Luo", "Gao", "Lin", "Tang", "Deng", "Ran", "Tan", "Mou", "Xiang", "Qin", "Peng",
)
GIVEN = (
    "Wei", "Fang", "Min", "Jing", "Li", "Qiang", "Lei", "Jun", "Yang", "Yong", "Yan", "Jie", "Tao", "Ming",
    "Chao", "Xiuying", "Guiying", "Jianguo", "Hua", "Ping", "Gang", "Hui", "Dan", "Xia", "Bo", "Yu", "Ling",
)
PLACES = (
    "Jiefangbei", "Chaotianmen", "Shapingba", "Ciqikou", "Nanping", "Yangjiaping", "Guanyinqiao", "Lianglukou",
    "Huangjueping", "Longtousi", "Danzishi", "Lijiatuo", "Caiyuanba", "Daping", "Shiqiaopu", "Xiejiawan",
)


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` names like ``Ran Jianguo`` (repeats are fine: people share names)."""
    s = rng.integers(0, len(SURNAMES), n)
    g = rng.integers(0, len(GIVEN), n)
    return [f"{SURNAMES[a]} {GIVEN[b]}" for a, b in zip(s.tolist(), g.tolist(), strict=True)]


def place_name(i: int) -> str:
    """A stable place name for the i-th town or grid: ``Ciqikou 3``."""
    return f"{PLACES[i % len(PLACES)]} {i // len(PLACES) + 1}"
