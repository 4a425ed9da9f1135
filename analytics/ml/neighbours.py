"""Similar customers and next-best products: nearest neighbours on scaled features, and the
products those neighbours bought that a customer has not.

Plain numpy, scipy and scikit-learn; the caller reads the rows and stores the answers.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

NO_NEIGHBOUR = -1


@dataclass(frozen=True)
class NeighbourIndex:
    """The fitted rows' customer ids (in row order), what a missing feature is taken to be, the
    scaler and the search structure."""

    ids: np.ndarray
    fill: np.ndarray
    scaler: StandardScaler
    search: NearestNeighbors


def _filled(features: np.ndarray, fill: np.ndarray) -> np.ndarray:
    missing = np.isnan(features)
    if not missing.any():
        return features
    return np.where(missing, fill[np.newaxis, :], features)


def neighbour_index_fit(
    *, ids: np.ndarray, features: np.ndarray, high_when_missing: tuple[int, ...] = ()
) -> NeighbourIndex:
    """Scale the features and index the rows for nearest-neighbour search.

    A missing value (NaN) becomes the column's mean, or its highest value for the columns in
    `high_when_missing` (days since the last order of someone who never ordered is "longer
    than anyone's", not "average")."""
    with np.errstate(invalid="ignore"):
        fill = np.nanmean(features, axis=0)
        if len(high_when_missing):
            fill[list(high_when_missing)] = np.nanmax(features[:, list(high_when_missing)], axis=0)
    fill = np.nan_to_num(fill, nan=0.0)
    scaler = StandardScaler()
    scaled = scaler.fit_transform(_filled(features, fill))
    # Brute force: tree indexes lose to it at a few dozen dimensions, and its cost is bounded
    # by the size of the fitted set, which the caller caps.
    search = NearestNeighbors(algorithm="brute", metric="euclidean", n_jobs=-1).fit(scaled)
    return NeighbourIndex(ids=np.asarray(ids), fill=fill, scaler=scaler, search=search)


def neighbours_find(
    *, index: NeighbourIndex, ids: np.ndarray, features: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The `k` nearest fitted rows of each row, nearest first, never the customer itself.

    Returns (positions in the index, distances), both of shape (rows, k); a row with fewer
    than `k` neighbours is padded with NO_NEIGHBOUR and an infinite distance."""
    rows = len(ids)
    fitted = len(index.ids)
    positions = np.full((rows, k), NO_NEIGHBOUR, dtype=np.int64)
    distances = np.full((rows, k), np.inf)
    if rows == 0 or fitted == 0:
        return positions, distances
    scaled = index.scaler.transform(_filled(features, index.fill))
    found_distances, found = index.search.kneighbors(
        scaled, n_neighbors=min(k + 1, fitted), return_distance=True
    )
    is_self = index.ids[found] == np.asarray(ids)[:, np.newaxis]
    found_distances = np.where(is_self, np.inf, found_distances)
    order = np.argsort(found_distances, axis=1, kind="stable")[:, :k]
    kept_distances = np.take_along_axis(found_distances, order, axis=1)
    kept = np.take_along_axis(found, order, axis=1)
    width = kept.shape[1]
    valid = np.isfinite(kept_distances)
    positions[:, :width] = np.where(valid, kept, NO_NEIGHBOUR)
    distances[:, :width] = kept_distances
    return positions, distances


def products_rank(
    *,
    positions: np.ndarray,
    distances: np.ndarray,
    purchases: sparse.csr_matrix,
    owned: sparse.csr_matrix,
    top: int,
) -> list[list[tuple[int, float]]]:
    """For each row, the `top` product columns its neighbours bought and it has not, best first.

    A product's score is the sum over the neighbours who bought it of 1 / (1 + distance) times
    the quantity they bought. `purchases` is (fitted rows x products) of quantities, `owned`
    (rows x products), non-zero where the row's customer bought the product."""
    rows, k = positions.shape
    valid = positions != NO_NEIGHBOUR
    row_numbers = np.repeat(np.arange(rows), k).reshape(rows, k)[valid]
    weights = sparse.csr_matrix(
        (1.0 / (1.0 + distances[valid]), (row_numbers, positions[valid])),
        shape=(rows, purchases.shape[0]),
    )
    scores = (weights @ purchases).tocsr()
    scores = (scores - scores.multiply(owned.astype(bool))).tocsr()
    scores.eliminate_zeros()
    ranked: list[list[tuple[int, float]]] = []
    for row in range(rows):
        start, end = scores.indptr[row], scores.indptr[row + 1]
        columns, values = scores.indices[start:end], scores.data[start:end]
        if len(values) > top:
            best = np.argpartition(-values, top)[:top]
            columns, values = columns[best], values[best]
        order = np.lexsort((columns, -values))
        ranked.append([(int(columns[i]), float(values[i])) for i in order])
    return ranked
