"""The train-step/* and mha-forward/* cases of `npm run bench`, in PyTorch, for comparison (CPU, one thread).

    python3 bench/pytorch_step.py [--runs 20] [--json FILE] [--only PREFIX]

mha-forward/*: batch 2, 256 tokens, width 768, 12 heads, causal, float32, no gradients: PyTorch's own
nn.MultiheadAttention, its fused F.scaled_dot_product_attention (PyTorch 2.0 and later), and the same
one-product matmul floor as the tfjs bench.

Same models and sizes as lib/src/seq2seq/model.ts: source and target vocabulary 64, embedding 64, GRU hidden
128, batch 64, source and target length 24, additive attention of size 128; Adam; one step = forward,
backward, gradient clipping, update. train-step/transformer: notebook 08's Transformer at the length experiment's
size (d 32, 2 heads, feed-forward 64, one encoder and one decoder block, pre-norm, sinusoidal positions), built
from PyTorch's own nn.Transformer. seq-scaling/<model>/T=<n>: the GRU encoder-decoder and a Transformer of
comparable size (d 64, 4 heads, feed-forward 256, 2 + 2 blocks) at batch 8 and source = target = T. train-step/gpt:
notebook 09's GPT (d 32, 4 heads, feed-forward 128, one block, context 64), batch 32 of 24 tokens. Exits 3 (and says so) when PyTorch is not installed; on Debian/Ubuntu
`apt-get install python3-torch` provides it (1.13 on Debian 12).
"""
import argparse
import json
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("PyTorch is not installed: skipped (apt-get install python3-torch, or pip install torch)")
    sys.exit(3)

V, E, H, A, B, S, T = 64, 64, 128, 128, 64, 24, 24


class Seq2Seq(nn.Module):
    def __init__(self, attention):
        super().__init__()
        self.attention = attention
        self.src_emb = nn.Embedding(V, E)
        self.tgt_emb = nn.Embedding(V, E)
        self.encoder = nn.GRU(E, H, batch_first=True)
        self.decoder = nn.GRUCell(E + H, H)
        if attention:
            self.Wq = nn.Linear(H, A, bias=False)
            self.Wk = nn.Linear(H, A, bias=False)
            self.v = nn.Linear(A, 1, bias=False)
        self.out = nn.Linear(2 * H, V)

    def forward(self, src, src_mask, tgt_in):
        states, last = self.encoder(self.src_emb(src))
        s = last[0]
        emb = self.tgt_emb(tgt_in)
        keys = self.Wk(states) if self.attention else None
        bias = (1 - src_mask) * -1e9
        outs, ctxs = [], []
        for t in range(tgt_in.shape[1]):
            if self.attention:
                e = self.v(torch.tanh(keys + self.Wq(s).unsqueeze(1))).squeeze(2) + bias
                a = torch.softmax(e, dim=1)
                c = torch.bmm(a.unsqueeze(1), states).squeeze(1)
            else:
                c = last[0]
            s = self.decoder(torch.cat([emb[:, t], c], 1), s)
            outs.append(s)
            ctxs.append(c)
        return self.out(torch.cat([torch.stack(outs, 1), torch.stack(ctxs, 1)], 2))


def sinusoidal(T, d):
    pos = torch.arange(T, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-torch.log(torch.tensor(10000.0)) / d))
    pe = torch.zeros(T, d)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
    return pe


class TransformerTranslator(nn.Module):
    """Embeddings + sinusoidal positions, PyTorch's nn.Transformer (pre-norm, no dropout), a linear output layer."""

    def __init__(self, d, heads, hidden, layers):
        super().__init__()
        self.src_emb, self.tgt_emb = nn.Embedding(V, d), nn.Embedding(V, d)
        self.core = nn.Transformer(d, heads, layers, layers, hidden, dropout=0.0, batch_first=True, norm_first=True)
        self.out = nn.Linear(d, V)
        self.d = d

    def forward(self, src, src_mask, tgt_in):
        S, T = src.shape[1], tgt_in.shape[1]
        x = self.src_emb(src) + sinusoidal(S, self.d)
        y = self.tgt_emb(tgt_in) + sinusoidal(T, self.d)
        causal = nn.Transformer.generate_square_subsequent_mask(T)
        pad = src_mask == 0
        h = self.core(x, y, tgt_mask=causal, src_key_padding_mask=pad, memory_key_padding_mask=pad)
        return self.out(h)


class GPT(nn.Module):
    """Notebook 09's GPT (lib/src/gpt/): token + learned position embeddings, pre-norm blocks of causal multi-head
    attention (query/key/value without bias, output projection with bias) and a ReLU feed-forward network, a final
    layer norm, an output head without bias."""

    def __init__(self, d, heads, hidden, layers, context):
        super().__init__()
        self.tok, self.pos = nn.Embedding(V, d), nn.Embedding(context, d)
        self.blocks = nn.ModuleList(GPTBlock(d, heads, hidden) for _ in range(layers))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, V, bias=False)

    def forward(self, src, src_mask, tgt_in):  # a language model reads only tgt_in
        x = self.tok(tgt_in) + self.pos(torch.arange(tgt_in.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


class GPTBlock(nn.Module):
    def __init__(self, d, heads, hidden):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v = (nn.Linear(d, d, bias=False) for _ in range(3))
        self.out = nn.Linear(d, d)
        self.ff = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, d))

    def forward(self, x):
        b, t, d = x.shape
        h = self.norm1(x)
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)  # [b, heads, T, head_dim]
        a = F.scaled_dot_product_attention(split(self.q(h)), split(self.k(h)), split(self.v(h)), is_causal=True)
        x = x + self.out(a.transpose(1, 2).reshape(b, t, d))
        return x + self.ff(self.norm2(x))


def timed(name, fn, runs):
    """Median and minimum milliseconds of `runs` calls of fn, after two warm-up calls, and the median CPU time."""
    fn()
    fn()
    times, cpu = [], []
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {
        "name": name,
        "backend": "pytorch-cpu-1thread",
        "ms_median": round(statistics.median(times), 1),
        "ms_min": round(min(times), 1),
        "cpu_ms_median": round(statistics.median(cpu), 1),
        "runs": runs,
    }


def case(name, attention, runs, model=None, batch=B, src_len=S, tgt_len=T):
    torch.manual_seed(0)
    model = model if model is not None else Seq2Seq(attention)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    src = torch.randint(4, V, (batch, src_len))
    tgt_in = torch.randint(4, V, (batch, tgt_len))
    tgt_out = torch.randint(4, V, (batch, tgt_len))
    mask = torch.ones(batch, src_len)

    def step():
        opt.zero_grad()
        logits = model(src, mask, tgt_in)
        loss = F.cross_entropy(logits.reshape(-1, V), tgt_out.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    return timed(name, step, runs)


MB, MT, MD, MH = 2, 256, 768, 12


def mha_cases(runs):
    torch.manual_seed(0)
    x = torch.randn(MB, MT, MD)
    causal = torch.triu(torch.ones(MT, MT, dtype=torch.bool), diagonal=1)
    module = nn.MultiheadAttention(MD, MH, bias=True, batch_first=True).eval()
    out = []
    with torch.no_grad():
        out.append(timed("mha-forward/torch-MultiheadAttention", lambda: module(x, x, x, attn_mask=causal, need_weights=False), runs))
        if hasattr(F, "scaled_dot_product_attention"):
            qkv = nn.Linear(MD, 3 * MD, bias=False)
            proj = nn.Linear(MD, MD)

            def sdpa():
                q, k, v = qkv(x).view(MB, MT, 3, MH, MD // MH).permute(2, 0, 3, 1, 4)
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
                return proj(y.transpose(1, 2).reshape(MB, MT, MD))

            out.append(timed("mha-forward/torch-scaled_dot_product_attention", sdpa, runs))
        else:
            print(f"mha-forward/torch-scaled_dot_product_attention: not in torch {torch.__version__} (PyTorch 2.0 added it)")
        n = 4 * MD + 2 * MT  # the multiply-adds of the whole forward as one [b T, d] x [d, n] product
        a, w = torch.randn(MB * MT, MD), torch.randn(MD, n)
        out.append(timed("mha-forward/matmul-floor", lambda: a @ w, runs))
    return out


def gqa_cases(runs):
    """gqa-forward/kv=<n>: PyTorch's fused attention with 12 query heads and n key/value heads (enable_gqa, torch >= 2.5)."""
    out = []
    if "enable_gqa" not in F.scaled_dot_product_attention.__doc__:
        print(f"gqa-forward/*: scaled_dot_product_attention has no enable_gqa in torch {torch.__version__} (2.5 added it)")
        return out
    torch.manual_seed(0)
    x = torch.randn(MB, MT, MD)
    hd = MD // MH
    with torch.no_grad():
        for kv in [12, 4, 1]:
            wq, wkv, proj = nn.Linear(MD, MD, bias=False), nn.Linear(MD, 2 * kv * hd, bias=False), nn.Linear(MD, MD)

            def step():
                q = wq(x).view(MB, MT, MH, hd).transpose(1, 2)
                k, v = wkv(x).view(MB, MT, 2, kv, hd).permute(2, 0, 3, 1, 4)
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
                return proj(y.transpose(1, 2).reshape(MB, MT, MD))

            out.append(timed(f"gqa-forward/kv={kv}", step, runs))
    return out


def sliding_window_cases(runs):
    """attention-scaling/sliding-window/T=<n>: one head of 64, batch 1, a causal window of 256 keys, as a boolean mask."""
    out = []
    torch.manual_seed(0)
    with torch.no_grad():
        for t in [128, 256, 512, 1024, 2048, 4096]:
            x = torch.randn(1, t, 64)
            qkv, proj = nn.Linear(64, 192, bias=False), nn.Linear(64, 64)
            i = torch.arange(t).unsqueeze(1)
            j = torch.arange(t).unsqueeze(0)
            allowed = (j <= i) & (j > i - 256)

            def step():
                q, k, v = qkv(x).view(1, t, 3, 1, 64).permute(2, 0, 3, 1, 4)
                return proj(F.scaled_dot_product_attention(q, k, v, attn_mask=allowed).transpose(1, 2).reshape(1, t, 64))

            out.append(timed(f"attention-scaling/sliding-window/T={t}", step, max(3, runs // 4) if t >= 2048 else runs))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--json")
    ap.add_argument("--only", default="", help="run only the cases whose names start with one of these comma-separated prefixes (the bench's --case)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    # (name prefix, what runs those cases): a group runs when --only and its prefix could match.
    groups = [
        ("train-step/gru-encdec", lambda: [case("train-step/gru-encdec", False, args.runs)]),
        ("train-step/bahdanau", lambda: [case("train-step/bahdanau", True, args.runs)]),
        ("train-step/transformer", lambda: [case("train-step/transformer", False, args.runs, model=TransformerTranslator(32, 2, 64, 1))]),
        ("train-step/gpt", lambda: [case("train-step/gpt", False, args.runs, model=GPT(32, 4, 128, 1, 64), batch=32, tgt_len=24)]),
        ("mha-forward/", lambda: mha_cases(args.runs)),
        ("gqa-forward/", lambda: gqa_cases(args.runs)),
        ("attention-scaling/sliding-window/", lambda: sliding_window_cases(args.runs)),
        ("seq-scaling/", lambda: seq_scaling_cases(args.runs)),
    ]
    only = args.only.split(",")
    cases = []
    for prefix, run in groups:
        if any(prefix.startswith(o) or o.startswith(prefix) for o in only):
            cases += [c for c in run() if any(c["name"].startswith(o) for o in only)]
    for c in cases:
        print(f"{c['name']:<48} {c['backend']} torch {torch.__version__}  median {c['ms_median']:8.1f} ms   min {c['ms_min']:8.1f} ms   cpu {c['cpu_ms_median']:8.1f} ms   ({c['runs']} runs)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cases": cases}, f, indent=2)


def seq_scaling_cases(runs):
    out = []
    for t in [16, 32, 64, 128, 256]:
        n = max(3, runs // 4) if t >= 128 else runs
        out.append(case(f"seq-scaling/gru-encdec/T={t}", False, n, batch=8, src_len=t, tgt_len=t))
        out.append(case(f"seq-scaling/transformer/T={t}", False, n, model=TransformerTranslator(64, 4, 256, 2), batch=8, src_len=t, tgt_len=t))
    return out


if __name__ == "__main__":
    main()
