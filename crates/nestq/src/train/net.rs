//! The trainable spiking network: forward pass with a tape, and its exact reverse pass
//! (backpropagation through time with a surrogate spike derivative; the bridge part is the
//! discrete adjoint of the RK4 substeps, as in [`crate::grad`]).
//!
//! See [`super`] for the model equations and conventions.

use super::bloch::{self, BridgeBasis, Gen};
use super::config::{LinkKind, NetConfig};
use crate::neural::rng::Xoshiro256;

/// Which optimiser group a parameter segment belongs to (paper Appendix B.6: separate learning
/// rates for classical and quantum parameters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Weights, biases and the skip-link parameters.
    Classical,
    /// Bridge parameters ω, κ, γ₀, β, α.
    Quantum,
}

/// A named slice of the flat parameter vector.
#[derive(Clone, Debug)]
pub struct Segment {
    /// Name (`w_in`, `b_hidden`, `w_rec`, `w_out`, `b_out`, `omega`, `kappa`, `gamma0`, `beta`,
    /// `alpha`, or for skip links `skip_kappa`, `skip_w`, `skip_g0`, `skip_beta`, `skip_c`).
    pub name: &'static str,
    /// Offset into the parameter vector.
    pub offset: usize,
    /// Number of entries.
    pub len: usize,
    /// Optimiser group.
    pub group: Group,
    /// Whether L2 regularisation applies (weights yes; biases, rates, frequencies no).
    pub decay: bool,
    /// Closed interval the entries are projected onto after every optimiser step.
    pub bounds: (f64, f64),
}

/// Index of a segment in [`Layout::segments`] (fixed order).
#[derive(Clone, Copy)]
pub(crate) struct Seg(usize);

/// Layout of the flat parameter vector.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Segments in storage order.
    pub segments: Vec<Segment>,
    /// Total number of trainable parameters.
    pub len: usize,
}

impl Layout {
    fn push(&mut self, name: &'static str, len: usize, group: Group, decay: bool, bounds: (f64, f64)) -> Seg {
        self.segments.push(Segment { name, offset: self.len, len, group, decay, bounds });
        self.len += len;
        Seg(self.segments.len() - 1)
    }

    /// The segment called `name`.
    pub fn get(&self, name: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.name == name)
    }

    fn range(&self, s: Seg) -> std::ops::Range<usize> {
        let g = &self.segments[s.0];
        g.offset..g.offset + g.len
    }
}

/// Segment handles of the link parameters, per link kind.
#[derive(Clone, Copy)]
enum LinkSegs {
    None,
    /// `omega`, `kappa` (2 per link: qubit of neuron i, qubit of neuron k), `gamma0`, `beta`,
    /// `alpha` (2 per link).
    Bridge { omega: Seg, kappa: Seg, gamma0: Seg, beta: Seg, alpha: Seg },
    /// `skip_kappa` (trace decay rates, 2 per link), `skip_w` (w_ik, w_ki), `skip_g0`,
    /// `skip_beta`, `skip_c` (constant currents c_i, c_k).
    Skip { kappa: Seg, w: Seg, g0: Seg, beta: Seg, c: Seg },
}

/// One training/test example: `x` is `steps × n_in` (row-major), `label` the class.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Input, `steps × n_in`, row-major (step-major).
    pub x: Vec<f64>,
    /// Class index in `0..n_out`.
    pub label: usize,
}

/// The network structure (everything but the parameter values).
pub struct Net {
    /// The configuration it was built from.
    pub cfg: NetConfig,
    /// Parameter layout.
    pub layout: Layout,
    w_in: Seg,
    b_h: Seg,
    w_rec: Seg,
    w_out: Seg,
    b_out: Seg,
    links: LinkSegs,
    /// Recurrent connections `(post, pre)`, in `w_rec` order.
    pub rec: Vec<(usize, usize)>,
    basis: Option<BridgeBasis>,
    /// Bloch component read by the bridge current of qubit 0 / qubit 1.
    meas: [usize; 2],
}

/// Forward-pass record of one sample, enough for the reverse pass.
pub(crate) struct Tape {
    steps: usize,
    /// `V` at the start of each step, `(steps + 1) × n_h`.
    v: Vec<f64>,
    /// Pre-reset potential Ṽ, `steps × n_h` (unused where refractory).
    vt: Vec<f64>,
    /// Spikes, `steps × n_h` (0 or 1).
    pub s: Vec<f64>,
    /// Refractory during the step, `steps × n_h`.
    refr: Vec<bool>,
    /// Bridge Bloch vectors at step starts, `(steps + 1) × n_links`.
    pub r: Vec<[f64; 16]>,
    /// Skip traces at step starts, `(steps + 1) × n_links × 2`.
    u: Vec<f64>,
    /// Coupling γ (or g for skip links) of each step, `steps × n_links`.
    pub gamma: Vec<f64>,
    /// Output logits.
    pub logits: Vec<f64>,
}

/// Loss, prediction and gradient of one sample.
pub(crate) struct SampleGrad {
    pub loss: f64,
    pub correct: bool,
    pub grad: Vec<f64>,
}

/// Every transcendental function of the training path is `libm`'s (a pure-Rust port of musl),
/// so native and WebAssembly runs give the same bits.
/// SuperSpike surrogate `∂s/∂Ṽ ≈ (1/ϑ)/(1 + k|Ṽ − v_th|/ϑ)²` on the potential normalised by the
/// threshold gap `ϑ = v_th − v_reset` (mV), peak `1/ϑ` per mV.
fn surrogate(x: f64, slope: f64, gap: f64) -> f64 {
    let d = 1.0 + slope * x.abs() / gap;
    1.0 / (gap * d * d)
}

/// `(γ, dγ/dΔV)` of `γ = γ₀ e^(−β|ΔV|)`, `ΔV = V_i − V_k`.
fn adaptive(g0: f64, beta: f64, dv: f64) -> (f64, f64) {
    let g = g0 * libm::exp(-beta * dv.abs());
    (g, -beta * g * dv.signum())
}

impl Net {
    /// Builds the structure for `cfg` (already validated by the config parser).
    pub fn new(cfg: NetConfig) -> Net {
        let (n_in, n_h, n_out) = (cfg.n_in, cfg.n_hidden, cfg.n_out);
        let inf = f64::INFINITY;
        let free = (-inf, inf);
        let mut layout = Layout { segments: Vec::new(), len: 0 };
        let w_in = layout.push("w_in", n_h * n_in, Group::Classical, true, free);
        let b_h = layout.push("b_hidden", n_h, Group::Classical, false, free);
        let mut rec = Vec::new();
        if cfg.rec_radius > 0 {
            for post in 0..n_h {
                for d in 1..=cfg.rec_radius.min(n_h / 2) {
                    for pre in [(post + d) % n_h, (post + n_h - d) % n_h] {
                        if pre != post && !rec.contains(&(post, pre)) {
                            rec.push((post, pre));
                        }
                    }
                }
            }
        }
        let w_rec = layout.push("w_rec", rec.len(), Group::Classical, true, free);
        let w_out = layout.push("w_out", n_out * n_h, Group::Classical, true, free);
        let b_out = layout.push("b_out", n_out, Group::Classical, false, free);
        let nl = cfg.links.pairs.len();
        let g_max = cfg.links.gamma_max;
        let links = match cfg.links.kind {
            LinkKind::None => LinkSegs::None,
            LinkKind::Bridge => LinkSegs::Bridge {
                omega: layout.push("omega", 2 * nl, Group::Quantum, false, free),
                kappa: layout.push("kappa", 2 * nl, Group::Quantum, false, (0.0, inf)),
                gamma0: layout.push("gamma0", nl, Group::Quantum, false, (0.0, g_max)),
                beta: layout.push("beta", nl, Group::Quantum, false, (0.0, inf)),
                alpha: layout.push("alpha", 2 * nl, Group::Quantum, false, free),
            },
            LinkKind::Skip => LinkSegs::Skip {
                kappa: layout.push("skip_kappa", 2 * nl, Group::Classical, false, (0.0, inf)),
                w: layout.push("skip_w", 2 * nl, Group::Classical, true, free),
                g0: layout.push("skip_g0", nl, Group::Classical, false, (0.0, g_max)),
                beta: layout.push("skip_beta", nl, Group::Classical, false, (0.0, inf)),
                c: layout.push("skip_c", 2 * nl, Group::Classical, false, free),
            },
        };
        let basis = (cfg.links.kind == LinkKind::Bridge).then(|| BridgeBasis::new(cfg.links.coupling));
        let meas = match cfg.links.measure {
            crate::neural::Readout::X => [4, 1],
            crate::neural::Readout::Z => [12, 3],
        };
        Net { cfg, layout, w_in, b_h, w_rec, w_out, b_out, links, rec, basis, meas }
    }

    /// Initial parameters drawn from `seed` (documented in [`super`]): weights normal with the
    /// configured scale over √fan-in, biases and link parameters at their configured values.
    pub fn init_params(&self, seed: u64) -> Vec<f64> {
        let c = &self.cfg;
        let mut rng = Xoshiro256::seed_from_u64(seed);
        let mut p = vec![0.0; self.layout.len];
        let fan_rec = (2 * c.rec_radius).max(1) as f64;
        for x in &mut p[self.layout.range(self.w_in)] {
            *x = c.init.w_in / (c.n_in as f64).sqrt() * rng.normal();
        }
        p[self.layout.range(self.b_h)].fill(c.init.bias);
        for x in &mut p[self.layout.range(self.w_rec)] {
            *x = c.init.w_rec / fan_rec.sqrt() * rng.normal();
        }
        for x in &mut p[self.layout.range(self.w_out)] {
            *x = c.init.w_out / (c.n_hidden as f64).sqrt() * rng.normal();
        }
        let li = &c.links.init;
        match self.links {
            LinkSegs::None => {}
            LinkSegs::Bridge { omega, kappa, gamma0, beta, alpha } => {
                p[self.layout.range(omega)].fill(li.omega);
                p[self.layout.range(kappa)].fill(li.kappa);
                p[self.layout.range(gamma0)].fill(li.gamma0);
                p[self.layout.range(beta)].fill(li.beta);
                p[self.layout.range(alpha)].fill(li.alpha);
            }
            LinkSegs::Skip { kappa, w, g0, beta, c: cc } => {
                p[self.layout.range(kappa)].fill(li.kappa);
                p[self.layout.range(w)].fill(li.alpha);
                p[self.layout.range(g0)].fill(li.gamma0);
                p[self.layout.range(beta)].fill(li.beta);
                p[self.layout.range(cc)].fill(0.0);
            }
        }
        p
    }

    fn at(&self, p: &[f64], s: Seg, i: usize) -> f64 {
        p[self.layout.segments[s.0].offset + i]
    }

    /// RK4 substeps of bridge `l` in step with coupling `gamma`: `(G, m, h)`.
    fn bridge_gen(&self, p: &[f64], l: usize, gamma: f64) -> (Gen<'_>, usize, f64) {
        let LinkSegs::Bridge { omega, kappa, .. } = self.links else { unreachable!("bridge_gen on a non-bridge net") };
        let c = [self.at(p, omega, 2 * l), self.at(p, omega, 2 * l + 1), self.at(p, kappa, 2 * l), self.at(p, kappa, 2 * l + 1), gamma];
        let g = self.basis.as_ref().expect("bridge basis").generator(&c);
        // Upper bound of the generator's spectral radius (coherence frequencies 2(|ω_i|+|ω_k|),
        // coupling ≤ 4γ, decay ≤ κ_i+κ_k): substeps keep h·bound ≤ 1, inside RK4's stability region.
        let bound = 2.0 * (c[0].abs() + c[1].abs()) + 4.0 * gamma.abs() + c[2] + c[3];
        let dt = self.cfg.dt;
        let m = self.cfg.links.substeps.max((dt * bound).ceil() as usize).max(1);
        (g, m, dt / m as f64)
    }

    /// Forward pass of one sample; returns the tape (with logits).
    pub(crate) fn forward(&self, p: &[f64], x: &[f64]) -> Tape {
        let c = &self.cfg;
        let (n_in, n_h, n_out, nl) = (c.n_in, c.n_hidden, c.n_out, c.links.pairs.len());
        let steps = x.len() / n_in;
        let decay = libm::exp(-c.dt / c.neuron.tau_m);
        let a_out = libm::exp(-c.dt / c.readout_tau);
        let ref_steps = ((c.neuron.t_ref / c.dt + 1e-3).floor() as usize).max(1);
        let mut t = Tape {
            steps,
            v: vec![c.neuron.v_rest; (steps + 1) * n_h],
            vt: vec![0.0; steps * n_h],
            s: vec![0.0; steps * n_h],
            refr: vec![false; steps * n_h],
            r: Vec::new(),
            u: Vec::new(),
            gamma: vec![0.0; steps * nl],
            logits: vec![0.0; n_out],
        };
        if c.links.kind == LinkKind::Bridge {
            t.r = vec![c.links.initial; (steps + 1) * nl];
        }
        if c.links.kind == LinkKind::Skip {
            t.u = vec![0.0; (steps + 1) * nl * 2];
        }
        let mut ref_left = vec![0usize; n_h];
        let mut cur = vec![0.0; n_h];
        let mut y = vec![0.0; n_out];
        let mut ysum = vec![0.0; n_out];
        let (w_in, w_rec, w_out) = (&p[self.layout.range(self.w_in)], &p[self.layout.range(self.w_rec)], &p[self.layout.range(self.w_out)]);
        let b_h = &p[self.layout.range(self.b_h)];
        for n in 0..steps {
            let xn = &x[n * n_in..(n + 1) * n_in];
            let vn = n * n_h;
            // Input currents.
            for i in 0..n_h {
                let row = &w_in[i * n_in..(i + 1) * n_in];
                cur[i] = b_h[i] + row.iter().zip(xn).map(|(w, x)| w * x).sum::<f64>();
            }
            // Link coupling from V(n), link currents from the link states at t_n, link advance.
            for (l, &(i, k)) in c.links.pairs.iter().enumerate() {
                let dv = t.v[vn + i] - t.v[vn + k];
                match self.links {
                    LinkSegs::None => {}
                    LinkSegs::Bridge { gamma0, beta, alpha, .. } => {
                        let (g, _) = adaptive(self.at(p, gamma0, l), self.at(p, beta, l), dv);
                        t.gamma[n * nl + l] = g;
                        let r = t.r[n * nl + l];
                        cur[i] += self.at(p, alpha, 2 * l) * r[self.meas[0]];
                        cur[k] += self.at(p, alpha, 2 * l + 1) * r[self.meas[1]];
                        let (gm, m, h) = self.bridge_gen(p, l, g);
                        let mut rr = r;
                        for _ in 0..m {
                            rr = bloch::rk4_step(&gm, &rr, h);
                        }
                        t.r[(n + 1) * nl + l] = rr;
                    }
                    LinkSegs::Skip { w, g0, beta, c: cc, .. } => {
                        let (g, _) = adaptive(self.at(p, g0, l), self.at(p, beta, l), dv);
                        t.gamma[n * nl + l] = g;
                        let (ui, uk) = (t.u[(n * nl + l) * 2], t.u[(n * nl + l) * 2 + 1]);
                        cur[i] += g * self.at(p, w, 2 * l) * uk + self.at(p, cc, 2 * l);
                        cur[k] += g * self.at(p, w, 2 * l + 1) * ui + self.at(p, cc, 2 * l + 1);
                    }
                }
            }
            // Neurons.
            for i in 0..n_h {
                let idx = vn + i;
                if ref_left[i] > 0 {
                    ref_left[i] -= 1;
                    t.refr[idx] = true;
                    t.v[idx + n_h] = c.neuron.v_reset;
                    continue;
                }
                let v_inf = c.neuron.v_rest + c.neuron.r_m * cur[i];
                t.vt[idx] = v_inf + (t.v[idx] - v_inf) * decay;
            }
            if n > 0 {
                for (q, &(post, pre)) in self.rec.iter().enumerate() {
                    if !t.refr[vn + post] {
                        t.vt[vn + post] += w_rec[q] * t.s[vn - n_h + pre];
                    }
                }
            }
            for i in 0..n_h {
                let idx = vn + i;
                if t.refr[idx] {
                    continue;
                }
                if c.smooth_spikes {
                    // ∫ surrogate: x̂/(1 + k|x̂|), x̂ = (Ṽ − v_th)/ϑ.
                    let x = (t.vt[idx] - c.neuron.v_th) / (c.neuron.v_th - c.neuron.v_reset);
                    t.s[idx] = x / (1.0 + c.surrogate_slope * x.abs());
                    t.v[idx + n_h] = t.vt[idx];
                } else if t.vt[idx] >= c.neuron.v_th {
                    t.s[idx] = 1.0;
                    t.v[idx + n_h] = c.neuron.v_reset;
                    ref_left[i] = ref_steps - 1;
                } else {
                    t.v[idx + n_h] = t.vt[idx];
                }
            }
            // Skip traces u(n+1) = u(n) e^(−κ dt) + s(n).
            if let LinkSegs::Skip { kappa, .. } = self.links {
                for (l, &(i, k)) in c.links.pairs.iter().enumerate() {
                    for (q, nrn) in [(0, i), (1, k)] {
                        let e = libm::exp(-self.at(p, kappa, 2 * l + q) * c.dt);
                        t.u[((n + 1) * nl + l) * 2 + q] = t.u[(n * nl + l) * 2 + q] * e + t.s[vn + nrn];
                    }
                }
            }
            // Readout y(n+1) = a y(n) + W_out s(n).
            for o in 0..n_out {
                let row = &w_out[o * n_h..(o + 1) * n_h];
                y[o] = a_out * y[o] + row.iter().zip(&t.s[vn..vn + n_h]).map(|(w, s)| w * s).sum::<f64>();
            }
            if n + 1 >= c.readout_from {
                for o in 0..n_out {
                    ysum[o] += y[o];
                }
            }
        }
        let win = (steps + 1 - c.readout_from.min(steps)) as f64;
        let b_out = &p[self.layout.range(self.b_out)];
        for o in 0..n_out {
            t.logits[o] = b_out[o] + ysum[o] / win;
        }
        t
    }

    /// Cross-entropy loss of logits against `label`, and `∂L/∂logits` (softmax − one-hot).
    pub(crate) fn loss(logits: &[f64], label: usize) -> (f64, Vec<f64>, bool) {
        let mx = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = logits.iter().map(|l| libm::exp(l - mx)).sum();
        let lse = mx + libm::log(z);
        let g: Vec<f64> = logits.iter().enumerate().map(|(o, l)| libm::exp(l - lse) - if o == label { 1.0 } else { 0.0 }).collect();
        let best = logits.iter().enumerate().fold(0, |b, (o, l)| if *l > logits[b] { o } else { b });
        (lse - logits[label], g, best == label)
    }

    /// Loss and exact gradient (with the surrogate spike derivative) of one sample.
    pub(crate) fn grad(&self, p: &[f64], sample: &Sample) -> SampleGrad {
        let t = self.forward(p, &sample.x);
        let (loss, gl, correct) = Net::loss(&t.logits, sample.label);
        let grad = self.backward(p, &sample.x, &t, &gl);
        SampleGrad { loss, correct, grad }
    }

    /// Reverse pass: gradient of the loss w.r.t. all parameters given `∂L/∂logits`.
    pub(crate) fn backward(&self, p: &[f64], x: &[f64], t: &Tape, gl: &[f64]) -> Vec<f64> {
        let c = &self.cfg;
        let (n_in, n_h, n_out, nl) = (c.n_in, c.n_hidden, c.n_out, c.links.pairs.len());
        let steps = t.steps;
        let decay = libm::exp(-c.dt / c.neuron.tau_m);
        let a_out = libm::exp(-c.dt / c.readout_tau);
        let mut gp = vec![0.0; self.layout.len];
        let win = (steps + 1 - c.readout_from.min(steps)) as f64;
        {
            let gb = &mut gp[self.layout.range(self.b_out)];
            gb.copy_from_slice(gl);
        }
        // ȳ_n for n = 1..=steps (index n-1): ȳ_n = [n ≥ from] ḡ/win + a ȳ_{n+1}.
        let mut ybar = vec![0.0; steps * n_out];
        let mut next = vec![0.0; n_out];
        for n in (1..=steps).rev() {
            for o in 0..n_out {
                let src = if n >= c.readout_from { gl[o] / win } else { 0.0 };
                next[o] = src + a_out * next[o];
                ybar[(n - 1) * n_out + o] = next[o];
            }
        }
        let w_in_r = self.layout.range(self.w_in);
        let w_rec_r = self.layout.range(self.w_rec);
        let w_out_r = self.layout.range(self.w_out);
        let b_h_r = self.layout.range(self.b_h);
        let mut vbar_next = vec![0.0; n_h];
        let mut sbar = vec![0.0; n_h];
        let mut sbar_prev = vec![0.0; n_h];
        let mut vbar = vec![0.0; n_h];
        let mut ibar = vec![0.0; n_h];
        let mut vtbar = vec![0.0; n_h];
        let mut rbar_next = vec![[0.0; 16]; nl];
        let mut ubar_next = vec![0.0; 2 * nl];
        let mut gbar_m = vec![0.0; self.basis.as_ref().map_or(0, |b| b.rc.len())];
        let mut subs: Vec<[f64; 16]> = Vec::new();
        for n in (0..steps).rev() {
            let vn = n * n_h;
            let s_n = &t.s[vn..vn + n_h];
            // Readout: y(n+1) = a y(n) + W_out s(n).
            let yb = &ybar[n * n_out..(n + 1) * n_out];
            for o in 0..n_out {
                for i in 0..n_h {
                    sbar[i] += p[w_out_r.start + o * n_h + i] * yb[o];
                    gp[w_out_r.start + o * n_h + i] += yb[o] * s_n[i];
                }
            }
            // Skip traces: u(n+1) = u(n) e + s(n).
            if let LinkSegs::Skip { kappa, .. } = self.links {
                for (l, &(i, k)) in c.links.pairs.iter().enumerate() {
                    for (q, nrn) in [(0, i), (1, k)] {
                        let kap = self.at(p, kappa, 2 * l + q);
                        let e = libm::exp(-kap * c.dt);
                        let ub = ubar_next[2 * l + q];
                        sbar[nrn] += ub;
                        gp[self.layout.segments[kappa.0].offset + 2 * l + q] += ub * t.u[(n * nl + l) * 2 + q] * e * (-c.dt);
                        ubar_next[2 * l + q] = ub * e; // now ū(n), partial
                    }
                }
            }
            // Neurons: Ṽ̄ = (1 − s) V̄(n+1) + s̄ σ'(Ṽ − v_th).
            sbar_prev.fill(0.0);
            for i in 0..n_h {
                let idx = vn + i;
                if t.refr[idx] {
                    vtbar[i] = 0.0;
                    vbar[i] = 0.0;
                    ibar[i] = 0.0;
                    continue;
                }
                let keep = if c.smooth_spikes { 1.0 } else { 1.0 - s_n[i] };
                let vt = keep * vbar_next[i] + sbar[i] * surrogate(t.vt[idx] - c.neuron.v_th, c.surrogate_slope, c.neuron.v_th - c.neuron.v_reset);
                vtbar[i] = vt;
                vbar[i] = decay * vt;
                ibar[i] = c.neuron.r_m * (1.0 - decay) * vt;
            }
            if n > 0 {
                for (q, &(post, pre)) in self.rec.iter().enumerate() {
                    let vb = vtbar[post];
                    if vb != 0.0 {
                        gp[w_rec_r.start + q] += vb * t.s[vn - n_h + pre];
                        sbar_prev[pre] += p[w_rec_r.start + q] * vb;
                    }
                }
            }
            let xn = &x[n * n_in..(n + 1) * n_in];
            for i in 0..n_h {
                let ib = ibar[i];
                if ib != 0.0 {
                    gp[b_h_r.start + i] += ib;
                    let row = &mut gp[w_in_r.start + i * n_in..w_in_r.start + (i + 1) * n_in];
                    for (g, xv) in row.iter_mut().zip(xn) {
                        *g += ib * xv;
                    }
                }
            }
            // Links.
            for (l, &(i, k)) in c.links.pairs.iter().enumerate() {
                let dv = t.v[vn + i] - t.v[vn + k];
                match self.links {
                    LinkSegs::None => {}
                    LinkSegs::Bridge { omega, kappa, gamma0, beta, alpha } => {
                        let r = t.r[n * nl + l];
                        let g = t.gamma[n * nl + l];
                        let (gm, m, h) = self.bridge_gen(p, l, g);
                        subs.clear();
                        subs.push(r);
                        for j in 0..m - 1 {
                            let nx = bloch::rk4_step(&gm, &subs[j], h);
                            subs.push(nx);
                        }
                        gbar_m.fill(0.0);
                        let mut rb = rbar_next[l];
                        for j in (0..m).rev() {
                            rb = bloch::rk4_step_adjoint(&gm, &subs[j], h, &rb, &mut gbar_m);
                        }
                        let basis = self.basis.as_ref().expect("bridge basis");
                        let cb: [f64; 5] = std::array::from_fn(|j| bloch::frob(&basis.terms[j], &gbar_m));
                        let off = |s: Seg| self.layout.segments[s.0].offset;
                        gp[off(omega) + 2 * l] += cb[bloch::OMEGA_I];
                        gp[off(omega) + 2 * l + 1] += cb[bloch::OMEGA_K];
                        gp[off(kappa) + 2 * l] += cb[bloch::KAPPA_I];
                        gp[off(kappa) + 2 * l + 1] += cb[bloch::KAPPA_K];
                        let gamma_bar = cb[bloch::GAMMA];
                        // Read-out currents from r(n).
                        let (ai, ak) = (self.at(p, alpha, 2 * l), self.at(p, alpha, 2 * l + 1));
                        gp[off(alpha) + 2 * l] += ibar[i] * r[self.meas[0]];
                        gp[off(alpha) + 2 * l + 1] += ibar[k] * r[self.meas[1]];
                        rb[self.meas[0]] += ai * ibar[i];
                        rb[self.meas[1]] += ak * ibar[k];
                        rbar_next[l] = rb; // now r̄(n)
                        self.adaptive_adjoint(p, &mut gp, (gamma0, beta), l, gamma_bar, dv, (&mut vbar, i, k));
                    }
                    LinkSegs::Skip { w, g0, beta, c: cc, .. } => {
                        let g = t.gamma[n * nl + l];
                        let (ui, uk) = (t.u[(n * nl + l) * 2], t.u[(n * nl + l) * 2 + 1]);
                        let (wik, wki) = (self.at(p, w, 2 * l), self.at(p, w, 2 * l + 1));
                        let off = |s: Seg| self.layout.segments[s.0].offset;
                        gp[off(cc) + 2 * l] += ibar[i];
                        gp[off(cc) + 2 * l + 1] += ibar[k];
                        gp[off(w) + 2 * l] += ibar[i] * g * uk;
                        gp[off(w) + 2 * l + 1] += ibar[k] * g * ui;
                        ubar_next[2 * l + 1] += ibar[i] * g * wik;
                        ubar_next[2 * l] += ibar[k] * g * wki;
                        let gamma_bar = ibar[i] * wik * uk + ibar[k] * wki * ui;
                        self.adaptive_adjoint(p, &mut gp, (g0, beta), l, gamma_bar, dv, (&mut vbar, i, k));
                    }
                }
            }
            std::mem::swap(&mut vbar_next, &mut vbar);
            std::mem::swap(&mut sbar, &mut sbar_prev);
        }
        gp
    }

    /// Adjoint of the adaptive coupling `γ = γ₀ e^(−β|V_i − V_k|)` of link `l` (bridge γ or skip
    /// g): adds `γ̄ ∂γ/∂γ₀`, `γ̄ ∂γ/∂β` to the gradient and `γ̄ ∂γ/∂V_i`, `γ̄ ∂γ/∂V_k` to `V̄(n)`.
    #[allow(clippy::too_many_arguments)]
    fn adaptive_adjoint(&self, p: &[f64], gp: &mut [f64], (g0, beta): (Seg, Seg), l: usize, gamma_bar: f64, dv: f64, (vbar, i, k): (&mut [f64], usize, usize)) {
        let (gz, be) = (self.at(p, g0, l), self.at(p, beta, l));
        let (g, dg) = adaptive(gz, be, dv);
        gp[self.layout.segments[g0.0].offset + l] += gamma_bar * libm::exp(-be * dv.abs());
        gp[self.layout.segments[beta.0].offset + l] += -gamma_bar * g * dv.abs();
        vbar[i] += gamma_bar * dg;
        vbar[k] -= gamma_bar * dg;
    }

    /// Logits of one sample (forward pass only).
    pub fn predict(&self, p: &[f64], x: &[f64]) -> Vec<f64> {
        self.forward(p, x).logits
    }

    /// Bridge Bloch vectors of one sample at every step start, `(steps + 1) × n_links` (empty
    /// unless the links are bridges), and the spikes `steps × n_hidden`.
    pub fn trace(&self, p: &[f64], x: &[f64]) -> (Vec<[f64; 16]>, Vec<f64>) {
        let t = self.forward(p, x);
        (t.r, t.s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::config::TrainConfig;

    fn net(links: &str, smooth: bool) -> Net {
        let text = format!(
            r#"{{"task": {{"kind": "delayed_recall", "symbols": 3, "cue_steps": 4, "delay_steps": 6, "recall_steps": 4}},
                "network": {{"n_hidden": 8, "dt": 1.0, "recurrent": {{"radius": 2}}, "links": {links},
                             "readout": {{"tau": 5, "from_step": 9}}, "surrogate": {{"slope": 4}}, "init": {{"w_in": 30, "bias": 1.4, "w_rec": 3}}}}}}"#
        );
        let mut cfg = TrainConfig::from_json_str(&text).unwrap().net;
        cfg.smooth_spikes = smooth;
        Net::new(cfg)
    }

    /// With smooth spikes (whose exact derivative is the surrogate) the reverse pass equals
    /// central finite differences of the loss for every parameter, for each link kind and
    /// bridge coupling.
    #[test]
    fn gradient_matches_finite_differences() {
        for links in [
            r#"{"kind": "bridge", "count": 2, "coupling": "hamiltonian", "init": {"gamma0": 0.3, "beta": 0.2, "alpha": 0.8}}"#,
            r#"{"kind": "bridge", "count": 2, "coupling": "paper", "initial": "bell", "measure": "X", "init": {"gamma0": 0.3, "beta": 0.2, "alpha": 0.8}}"#,
            r#"{"kind": "bridge", "count": 2, "coupling": "cp", "substeps": 3, "init": {"gamma0": 0.3, "beta": 0.2, "alpha": 0.8}}"#,
            r#"{"kind": "skip", "count": 2, "init": {"gamma0": 0.4, "beta": 0.1, "alpha": 0.5, "kappa": 0.2}}"#,
            r#"{"kind": "none"}"#,
        ] {
            let net = net(links, true);
            let mut p = net.init_params(3);
            // Perturb every entry so that no derivative vanishes by symmetry.
            let mut rng = Xoshiro256::seed_from_u64(11);
            for x in p.iter_mut() {
                *x += 0.05 * rng.normal();
            }
            for s in &net.layout.segments {
                for x in &mut p[s.offset..s.offset + s.len] {
                    *x = x.clamp(s.bounds.0 + 1e-3, s.bounds.1);
                }
            }
            let x: Vec<f64> = (0..14 * 4).map(|_| rng.uniform()).collect();
            let sample = Sample { x: x.clone(), label: 1 };
            let g = net.grad(&p, &sample).grad;
            let loss = |q: &[f64]| Net::loss(&net.predict(q, &x), 1).0;
            let mut worst: f64 = 0.0;
            for seg in &net.layout.segments {
                for j in seg.offset..seg.offset + seg.len {
                    let h = 1e-5 * p[j].abs().max(1.0);
                    let (mut a, mut b) = (p.clone(), p.clone());
                    a[j] += h;
                    b[j] -= h;
                    let fd = (loss(&a) - loss(&b)) / (2.0 * h);
                    let err = (fd - g[j]).abs() / (fd.abs().max(g[j].abs()).max(1e-4));
                    assert!(err < 1e-5, "{links}: {}[{}]: adjoint {} vs FD {}", seg.name, j - seg.offset, g[j], fd);
                    worst = worst.max(err);
                }
            }
            assert!(g.iter().any(|v| v.abs() > 1e-6), "{links}: gradient is zero");
        }
    }

    /// The hard-threshold network spikes, and its surrogate gradient of the readout weights is
    /// exact (the readout is linear in them, so finite differences apply despite the spikes).
    #[test]
    fn hard_spikes_readout_gradient_exact() {
        let net = net(r#"{"kind": "bridge", "count": 2}"#, false);
        let p = net.init_params(5);
        let mut rng = Xoshiro256::seed_from_u64(2);
        let x: Vec<f64> = (0..14 * 4).map(|_| rng.uniform()).collect();
        let t = net.forward(&p, &x);
        assert!(t.s.iter().sum::<f64>() > 0.0, "no spikes");
        let g = net.grad(&p, &Sample { x: x.clone(), label: 0 }).grad;
        let seg = net.layout.get("w_out").unwrap().clone();
        for j in seg.offset..seg.offset + seg.len {
            let (mut a, mut b) = (p.clone(), p.clone());
            a[j] += 1e-6;
            b[j] -= 1e-6;
            let fd = (Net::loss(&net.predict(&a, &x), 0).0 - Net::loss(&net.predict(&b, &x), 0).0) / 2e-6;
            assert!((fd - g[j]).abs() < 1e-7, "w_out[{}]: {} vs {}", j - seg.offset, g[j], fd);
        }
    }
}
