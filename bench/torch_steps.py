"""The peer for `npm run bench`: the lab models of bench/workloads.ts, built in PyTorch
with the same layers and the same trainable-parameter counts, timed the same way
(warm-up runs, then runs until a time budget, the median reported).

Layout differences that do not change the work: PyTorch is NCHW, tfjs NHWC; for a
stride-2 3x3 'same' convolution tfjs pads (0, 1) and PyTorch (1, 1), which shifts
the sampling grid by a pixel but computes the same number of products.

    python3 bench/torch_steps.py --models dcgan,conv-vae --seconds 10 --threads 2
Prints one JSON object on stdout.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH_SIZE = 64
SAMPLE_COUNT = 16


def trainable(*modules):
    return sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)


# DCGAN (lib/models/gan.ts, 'dcgan', filters 64/128, z in U(-1, 1)^96)
class Generator(nn.Module):
    def __init__(self, noise_dim=96, filters=64):
        super().__init__()
        self.dense = nn.Linear(noise_dim, 7 * 7 * 128, bias=False)
        self.bn1 = nn.BatchNorm2d(128, eps=1e-3, momentum=0.01)
        self.up1 = nn.ConvTranspose2d(128, filters, 4, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01)
        self.up2 = nn.ConvTranspose2d(filters, 1, 4, stride=2, padding=1)

    def forward(self, z):
        h = F.relu(self.bn1(self.dense(z).view(-1, 128, 7, 7)))
        h = F.relu(self.bn2(self.up1(h)))
        return torch.tanh(self.up2(h))


class Discriminator(nn.Module):
    def __init__(self, filters=(64, 128)):
        super().__init__()
        self.conv1 = nn.Conv2d(1, filters[0], 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(filters[0], filters[1], 4, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(filters[1], eps=1e-3, momentum=0.01)
        self.logit = nn.Linear(7 * 7 * filters[1], 1)

    def forward(self, x):
        h = F.leaky_relu(self.conv1(x), 0.2)
        h = F.leaky_relu(self.bn(self.conv2(h)), 0.2)
        return self.logit(h.flatten(1))


def dcgan():
    g, d = Generator(), Discriminator()
    opt_g = torch.optim.Adam(g.parameters(), 1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 1e-3, betas=(0.5, 0.999))
    real = torch.rand(BATCH_SIZE, 1, 28, 28) * 2 - 1
    ones, zeros = torch.ones(BATCH_SIZE, 1), torch.zeros(BATCH_SIZE, 1)

    def noise():
        return torch.rand(BATCH_SIZE, 96) * 2 - 1

    def run():
        # D step: fakes from G (forward only), then D on real and fake.
        with torch.no_grad():
            fake = g(noise())
        opt_d.zero_grad()
        loss_d = F.binary_cross_entropy_with_logits(d(real), ones) + F.binary_cross_entropy_with_logits(d(fake), zeros)
        loss_d.backward()
        opt_d.step()
        # G step: the non-saturating loss through D, updating G only.
        opt_g.zero_grad()
        loss_g = F.binary_cross_entropy_with_logits(d(g(noise())), ones)
        loss_g.backward()
        opt_g.step()
        loss_g.item()

    return trainable(g, d), run


# Conv VAE (lib/models/vae.ts, 'conv', latent 32, filters 32/64)
class ConvVae(nn.Module):
    def __init__(self, latent=32, f1=32, f2=64):
        super().__init__()
        self.latent = latent
        self.enc = nn.Sequential(
            nn.Conv2d(1, f1, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(f1, f2, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(7 * 7 * f2, 128), nn.ReLU(), nn.Linear(128, 2 * latent))
        self.dec_dense = nn.Sequential(nn.Linear(latent, 128), nn.ReLU(), nn.Linear(128, 7 * 7 * f2), nn.ReLU())
        self.dec_conv = nn.Sequential(
            nn.ConvTranspose2d(f2, f2, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(f2, f1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.Conv2d(f1, 1, 3, padding=1))
        self.f2 = f2

    def loss(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = self.dec_conv(self.dec_dense(z).view(-1, self.f2, 7, 7))
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction='none').flatten(1).sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        return (reconstruction + kl).mean()


# MLP VAE (lib/models/vae.ts, 'mlp', latent 32, hidden 512/256)
class MlpVae(nn.Module):
    def __init__(self, latent=32, hidden=(512, 256)):
        super().__init__()
        h1, h2 = hidden
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(784, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(), nn.Linear(h2, 2 * latent))
        self.dec = nn.Sequential(nn.Linear(latent, h2), nn.ReLU(), nn.Linear(h2, h1), nn.ReLU(), nn.Linear(h1, 784))

    def loss(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = self.dec(z)
        reconstruction = F.binary_cross_entropy_with_logits(logits, x.flatten(1), reduction='none').sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        return (reconstruction + kl).mean()


def vae_step(model):
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(BATCH_SIZE, 1, 28, 28).round()

    def run():
        opt.zero_grad()
        loss = model.loss(x)
        loss.backward()
        opt.step()
        loss.item()

    return trainable(model), run


# PixelCNN (lib/models/pixelcnn.ts: 7x7 mask A, 5 x 3x3 mask B, two 1x1 convs, 64 channels)
class MaskedConv2d(nn.Conv2d):
    def __init__(self, cin, cout, k, mask_type):
        super().__init__(cin, cout, k, padding=k // 2)
        mask = torch.ones(k, k)
        c = k // 2
        mask[c, c + (1 if mask_type == 'B' else 0):] = 0
        mask[c + 1:, :] = 0
        self.register_buffer('mask', mask.view(1, 1, k, k))

    def forward(self, x):
        # The kernel is masked on every call, as genlab's MaskedConv2D does.
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class PixelCnn(nn.Module):
    def __init__(self, filters=64, layers=5):
        super().__init__()
        blocks = [MaskedConv2d(1, filters, 7, 'A'), nn.ReLU()]
        for _ in range(layers):
            blocks += [MaskedConv2d(filters, filters, 3, 'B'), nn.ReLU()]
        blocks += [nn.Conv2d(filters, filters, 1), nn.ReLU(), nn.Conv2d(filters, 1, 1)]
        self.net = nn.Sequential(*blocks)

    def forward(self, x):
        return self.net(x)


def pixelcnn():
    model = PixelCnn()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(BATCH_SIZE, 1, 28, 28).round()

    def run():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), x, reduction='none').flatten(1).sum(1).mean()
        loss.backward()
        opt.step()
        loss.item()

    return trainable(model), run


# The receptive field reaches 3 rows up and 3 columns aside (7x7 mask A) plus 1 per 3x3 layer.
REACH = 3 + 5


def pixelcnn_sample(window):
    """genlab's sampler: each pass sees only the window that can reach the pixel drawn
    (rows r - REACH .. r, columns c - REACH .. c + REACH); window=False is the textbook
    loop over the whole image."""
    model = PixelCnn().eval()

    def run():
        x = torch.zeros(SAMPLE_COUNT, 1, 28, 28)
        with torch.no_grad():
            for r in range(28):
                top, bottom = (max(0, r - REACH), r + 1) if window else (0, 28)
                for c in range(28):
                    left, right = (max(0, c - REACH), min(28, c + REACH + 1)) if window else (0, 28)
                    logits = model(x[:, :, top:bottom, left:right])[:, 0, r - top, c - left]
                    x[:, 0, r, c] = torch.bernoulli(torch.sigmoid(logits))
        x.sum().item()

    return trainable(model), run


# The normalizing flow (lib/models/flow.ts: two scales, 16 affine couplings, 48 channels, one residual block each,
# an ActNorm after each coupling).
# NCHW here, NHWC in genlab: the same layers, the same channel order after each squeeze.
class CouplingNet(nn.Module):
    def __init__(self, cin, cout, hidden=48):
        super().__init__()
        self.conv_in = nn.Conv2d(cin, hidden, 3, padding=1)
        self.block = nn.Sequential(nn.ReLU(), nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(), nn.Conv2d(hidden, hidden, 1))
        self.heads = nn.ModuleList([nn.Conv2d(hidden, cout, 3, padding=1) for _ in range(2)])
        for head in self.heads:
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def forward(self, x):
        h = self.conv_in(x)
        h = F.relu(h + self.block(h))
        return self.heads[0](h), self.heads[1](h)


def squeeze(x):
    n, c, h, w = x.shape
    return x.view(n, c, h // 2, 2, w // 2, 2).permute(0, 3, 5, 1, 2, 4).reshape(n, 4 * c, h // 2, w // 2)


class Flow(nn.Module):
    def __init__(self, hidden=48, alpha=0.001):
        super().__init__()
        self.alpha = alpha
        self.steps, nets, norms = [], [], []
        c, h = 1, 28

        def act_norm():
            self.steps.append(('actnorm', len(norms)))
            norms.append(nn.ParameterList([nn.Parameter(torch.zeros(1, c, 1, 1)) for _ in range(2)]))

        def checkerboard(parity):
            mask = ((torch.arange(h).view(h, 1) + torch.arange(h).view(1, h) + parity) % 2 == 0).float()
            self.steps.append(('checkerboard', mask.view(1, 1, h, h), len(nets)))
            nets.append(CouplingNet(c, c, hidden))
            act_norm()

        def channel(flip):
            self.steps.append(('channel', flip, len(nets)))
            nets.append(CouplingNet(c // 2, c // 2, hidden))
            act_norm()

        for _ in range(2):
            for k in range(3):
                checkerboard(k % 2)
            self.steps.append(('squeeze',))
            c, h = 4 * c, h // 2
            for k in range(3):
                channel(k % 2 == 1)
            self.steps.append(('factor-out',))
            c //= 2
        for k in range(4):
            checkerboard(k % 2)
        self.nets = nn.ModuleList(nets)
        self.norms = nn.ModuleList(norms)

    def neg_log_density(self, y):
        s = self.alpha + (1 - 2 * self.alpha) * y
        w = torch.log(s) - torch.log1p(-s)
        log_det = (math.log(1 - 2 * self.alpha) - torch.log(s) - torch.log1p(-s)).flatten(1).sum(1)
        h, out = w, []
        for step in self.steps:
            if step[0] == 'squeeze':
                h = squeeze(h)
            elif step[0] == 'factor-out':
                kept, leaving = h.chunk(2, 1)
                out.append(leaving.flatten(1))
                h = kept
            elif step[0] == 'actnorm':
                bias, log_scale = self.norms[step[1]]
                h = (h + bias) * torch.exp(log_scale)
                log_det = log_det + log_scale.sum() * h.shape[2] * h.shape[3]
            elif step[0] == 'checkerboard':
                mask, net = step[1], self.nets[step[2]]
                raw_s, t = net(h * mask)
                scale = torch.tanh(raw_s) * (1 - mask)
                h = h * torch.exp(scale) + t * (1 - mask)
                log_det = log_det + scale.flatten(1).sum(1)
            else:
                flip, net = step[1], self.nets[step[2]]
                a, b = h.chunk(2, 1)
                kept, changed = (b, a) if flip else (a, b)
                raw_s, t = net(kept)
                scale = torch.tanh(raw_s)
                changed = changed * torch.exp(scale) + t
                h = torch.cat([changed, kept] if flip else [kept, changed], 1)
                log_det = log_det + scale.flatten(1).sum(1)
        z = torch.cat(out + [h.flatten(1)], 1)
        log_pz = -0.5 * (z ** 2).sum(1) - 0.5 * z.shape[1] * math.log(2 * math.pi)
        return -(log_pz + log_det)


def flow():
    model = Flow()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.randint(0, 256, (BATCH_SIZE, 1, 28, 28)).float()

    def run():
        opt.zero_grad()
        loss = model.neg_log_density((x + torch.rand_like(x)) / 256).mean()
        loss.backward()
        opt.step()
        loss.item()

    return trainable(model), run


# The diffusion model's U-Net (lib/models/diffusion.ts: 32 channels at 28 x 28, 64 below, a 64-wide embedding of the
# step's 32 sinusoidal features and the one-hot label with its "no label" column). NCHW here, NHWC in genlab.
class Block(nn.Module):
    def __init__(self, cin, c, emb=64):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, padding=1)
        self.project = nn.Linear(emb, c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.skip = nn.Conv2d(cin, c, 1) if cin != c else nn.Identity()

    def forward(self, h, e):
        r = self.conv1(F.relu(h)) + self.project(e)[:, :, None, None]
        return self.skip(h) + self.conv2(F.relu(r))


class UNet(nn.Module):
    def __init__(self, c1=32, c2=64, emb=64, classes=10):
        super().__init__()
        self.time = nn.Linear(32, emb)
        self.label = nn.Linear(classes + 1, emb)
        self.mix = nn.Sequential(nn.Linear(2 * emb, emb), nn.ReLU(), nn.Linear(emb, emb), nn.ReLU())
        self.conv_in = nn.Conv2d(1, c1, 3, padding=1)
        self.d1, self.d2 = Block(c1, c1), Block(c1, c2)
        self.m1, self.m2 = Block(c2, c2), Block(c2, c2)
        self.u2, self.u1 = Block(2 * c2, c2), Block(c2 + c1, c1)
        self.conv_out = nn.Conv2d(c1, 1, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x, time, label):
        e = self.mix(torch.cat([F.relu(self.time(time)), self.label(label)], 1))
        d1 = self.d1(self.conv_in(x), e)
        d2 = self.d2(F.avg_pool2d(d1, 2), e)
        m = self.m2(self.m1(F.avg_pool2d(d2, 2), e), e)
        u2 = self.u2(torch.cat([F.interpolate(m, scale_factor=2), d2], 1), e)
        u1 = self.u1(torch.cat([F.interpolate(u2, scale_factor=2), d1], 1), e)
        return self.conv_out(F.relu(u1))


def diffusion():
    model = UNet()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    alpha_bars = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000), 0)
    x0 = torch.rand(BATCH_SIZE, 1, 28, 28) * 2 - 1
    labels = torch.arange(BATCH_SIZE) % 10

    def run():
        t = torch.randint(0, 1000, (BATCH_SIZE,))
        y = torch.where(torch.rand(BATCH_SIZE) < 0.1, torch.full_like(labels, 10), labels)
        freqs = 10000 ** (-torch.arange(16) / 16)
        angles = t[:, None].float() * freqs[None]
        time = torch.cat([angles.sin(), angles.cos()], 1)
        noise = torch.randn_like(x0)
        ab = alpha_bars[t].view(-1, 1, 1, 1)
        xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
        opt.zero_grad()
        loss = F.mse_loss(model(xt, time, F.one_hot(y, 11).float()), noise)
        loss.backward()
        opt.step()
        loss.item()

    return trainable(model), run


def gemm():
    """Calibration, not a lab model: one 1024 x 1024 x 1024 float32 matrix product."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)

    def run():
        (a @ b)[0, 0].item()

    return 0, run


WORKLOADS = {
    'dcgan': dcgan,
    'conv-vae': lambda: vae_step(ConvVae()),
    'mlp-vae': lambda: vae_step(MlpVae()),
    'pixelcnn': pixelcnn,
    'pixelcnn-sample': lambda: pixelcnn_sample(window=True),
    'pixelcnn-sample-full': lambda: pixelcnn_sample(window=False),
    'flow': flow,
    'diffusion': diffusion,
    'gemm': gemm,
}


def time_runs(run, seconds, warmup, min_runs):
    for _ in range(warmup):
        run()
    times = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--models', default=','.join(WORKLOADS))
    parser.add_argument('--seconds', type=float, default=10)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    results = {}
    for name in args.models.split(','):
        params, run = WORKLOADS[name]()
        sampling = name.startswith('pixelcnn-sample')
        times = time_runs(run, 0 if sampling else args.seconds, 0 if sampling else 2, 1 if sampling else 3)
        results[name] = {'trainableParams': params, 'runs': len(times), 'msPerRun': statistics.median(times), 'allMs': times}
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'results': results}))


if __name__ == '__main__':
    main()
