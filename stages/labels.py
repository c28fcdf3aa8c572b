"""Words drawn into a picture, for the row labels of the example grid (clean, noisy, denoised).

A 5x7 pixel font with just the letters those words need: enough to label a picture without an
imaging library.
"""

import numpy as np

GLYPHS = {
    "a": ".....|.....|.###.|....#|.####|#...#|.####",
    "c": ".....|.....|.####|#....|#....|#....|.####",
    "d": "....#|....#|.####|#...#|#...#|#...#|.####",
    "e": ".....|.....|.###.|#...#|#####|#....|.###.",
    "i": "..#..|.....|.##..|..#..|..#..|..#..|.###.",
    "l": ".##..|..#..|..#..|..#..|..#..|..#..|.###.",
    "n": ".....|.....|####.|#...#|#...#|#...#|#...#",
    "o": ".....|.....|.###.|#...#|#...#|#...#|.###.",
    "s": ".....|.....|.####|#....|.###.|....#|####.",
    "y": ".....|.....|#...#|#...#|.#.#.|..#..|##...",
}


def text_mask(word: str, scale: int = 2) -> np.ndarray:
    """A boolean picture of `word`, 7 * scale pixels high, with a blank column after each letter."""
    letters = [
        np.array([[c == "#" for c in row + "."] for row in GLYPHS[letter].split("|")])
        for letter in word
    ]
    return np.concatenate(letters, axis=1).repeat(scale, axis=0).repeat(scale, axis=1)


def with_row_labels(grid: np.ndarray, words: list[str], scale: int = 2) -> np.ndarray:
    """The (height, width, channels) grid with a black margin on its left holding one word per
    row of equal height, in white, centred vertically in its row."""
    height, _, channels = grid.shape
    row_height = height // len(words)
    margin = np.zeros((height, 6 * scale * max(map(len, words)) + 2 * scale, channels), grid.dtype)
    for row, word in enumerate(words):
        mask = text_mask(word, scale)
        top = row * row_height + (row_height - mask.shape[0]) // 2
        margin[top : top + mask.shape[0], scale : scale + mask.shape[1]][mask] = 1.0
    return np.concatenate([margin, grid], axis=1)
