"""(A-embedding, B-embedding) pairs as in-memory tensors, served a whole batch per index."""

from __future__ import annotations

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler, SequentialSampler

from embtrans.data.paired import PairedEmbeddings


class TensorPairs(Dataset):
    """Indexing with a list of rows returns the whole batch at once: no per-item collation."""

    def __init__(self, source: torch.Tensor, target: torch.Tensor) -> None:
        self.source, self.target = source, target

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, rows):
        return self.source[rows], self.target[rows]


class ShuffledBatches(Sampler):
    """Batches of a fresh permutation each epoch, drawn from (seed, epoch) alone.

    Lightning calls set_epoch before every epoch, so epoch e sees the same order however the run got
    there: a run resumed from its last checkpoint goes on exactly as an uninterrupted one would.
    """

    def __init__(self, size: int, batch_size: int, seed: int) -> None:
        self.size, self.batch_size, self.seed, self.epoch = size, batch_size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-self.size // self.batch_size)

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.size, generator=generator).tolist()
        for start in range(0, self.size, self.batch_size):
            yield order[start:start + self.batch_size]


class PairedEmbeddingDataModule(pl.LightningDataModule):
    def __init__(self, paired: PairedEmbeddings, batch_size: int = 256, eval_batch_size: int = 8192,
                 seed: int = 0, device: torch.device | str = "cpu") -> None:
        super().__init__()
        # On a GPU the splits are copied there once, so no batch crosses the bus during training
        # (Lightning's per-batch transfer then has nothing to move); ``pairs`` stay on the CPU.
        self.device = torch.device(device)
        self.paired = paired
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.seed = seed
        self.pairs = {
            split: TensorPairs(torch.from_numpy(np.ascontiguousarray(paired.source[rows])),
                               torch.from_numpy(np.ascontiguousarray(paired.target[rows])))
            for split in ("train", "val", "test")
            for rows in [paired.rows(split)]
        }

    @property
    def dims(self) -> tuple[int, int]:
        return self.paired.source.shape[1], self.paired.target.shape[1]

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        pairs = self.pairs[split]
        if self.device.type != "cpu":
            pairs = TensorPairs(pairs.source.to(self.device), pairs.target.to(self.device))
        if shuffle:
            batches = ShuffledBatches(len(pairs), self.batch_size, self.seed)
        else:
            batches = BatchSampler(SequentialSampler(pairs), self.eval_batch_size, drop_last=False)
        # batch_size=None: the sampler yields lists of rows and the dataset slices them in one go.
        return DataLoader(pairs, sampler=batches, batch_size=None, num_workers=0)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
