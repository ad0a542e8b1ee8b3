"""The style network, its checkpoint format and the sampler (Lu & Su's Algorithm 1).

This subpackage owns :class:`~styletx.model.network.StyleNet` (LSTM context encoder plus
an autoregressive convolutional generator over the pitch axis), its configurations
(:mod:`~styletx.model.config`: the architecture and the training configuration; which
files hold them and the weights is :mod:`styletx.stylefolder`'s), the
sampling settings (:mod:`~styletx.model.settings`, torch-free), the small interface a
network offers the sampler (:mod:`~styletx.model.interface`: encode, then draw frames under
a policy of tensors), the sampler's starting state (:mod:`~styletx.model.start`), torch's
thread count for a block of work (:mod:`~styletx.model.threads`) and the Gibbs sampler
(:mod:`~styletx.model.sampler`: a masker, a schedule and an inner sampler), and several
chains of it in lockstep whose network calls are batched (:mod:`~styletx.model.lockstep`,
the candidates of a render), and ``--density``'s search for the onset shift that makes a
piece X times as busy (:mod:`~styletx.model.density`). It may import
torch, safetensors, numpy, :mod:`styletx.music` and :mod:`styletx.errors`; it never imports MIDI files
(:mod:`styletx.io`), training, evaluation or the application modules: it sees grids,
not files.
"""
