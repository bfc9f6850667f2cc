//! The model file and the int8 forward pass: the same steps, in the same
//! order, as `train/int8.py`, whose figures are therefore the agent's.
//!
//! The file is safetensors (documented in `train/int8.py` and the README):
//! the vocabulary, int8 weights with a scale per output channel, and f32
//! for the small parts (biases, LayerNorms, positions, the head). Int8
//! tensors are used where they lie in the embedded bytes; nothing large is
//! copied.
//!
//! Each linear layer quantizes its input per token (symmetric int8, scale
//! `max|x| / 127`), sums products in `i32` ([`crate::kernel`]), then
//! `y = acc · (s_x · s_w) + b` in f32. Attention, LayerNorm, GELU and the
//! head stay in f32 (a few thousand operations a headline). Every float
//! operation is IEEE with fixed order, and `expf`/`erff` come from `libm`,
//! so a headline gets the same probabilities on every machine.

use crate::kernel::matmul;
use crate::tokenizer::Tokenizer;
use crate::vector;
use safetensors::{Dtype, SafeTensors};

/// The format this agent reads (`__metadata__.format`).
pub const FORMAT: &str = "floor-sentiment/1";
/// The classes, in the order of the head's outputs.
pub const LABELS: &str = "bearish,bullish,neutral";
const LN_EPS: f32 = 1e-12;

/// Class probabilities: bearish, bullish, neutral.
pub type Probabilities = [f32; 3];

/// What the file says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    /// The model's version (`sentiment-v<version>`).
    pub version: String,
    /// Attention heads.
    pub heads: usize,
    /// Most ids a headline is cut to, `[CLS]` and `[SEP]` included.
    pub max_len: usize,
}

struct Linear<'a> {
    q: &'a [i8],
    scale: Vec<f32>,
    b: Vec<f32>,
    n_in: usize,
    n_out: usize,
}

struct Norm {
    g: Vec<f32>,
    b: Vec<f32>,
}

struct Layer<'a> {
    q: Linear<'a>,
    k: Linear<'a>,
    v: Linear<'a>,
    o: Linear<'a>,
    ff1: Linear<'a>,
    ff2: Linear<'a>,
    ln1: Norm,
    ln2: Norm,
}

/// A loaded model: tokenizer and weights.
pub struct Model<'a> {
    /// What the file says about itself.
    pub meta: Meta,
    tokenizer: Tokenizer<'a>,
    width: usize,
    tok_q: &'a [i8],
    tok_scale: Vec<f32>,
    pos: Vec<f32>,
    ln0: Norm,
    layers: Vec<Layer<'a>>,
    head_w: Vec<f32>,
    head_b: Vec<f32>,
    gelu: Gelu,
}

/// Reads named tensors of a file, checking dtype and shape.
struct File<'a> {
    st: SafeTensors<'a>,
}

impl<'a> File<'a> {
    fn raw(&self, name: &str, dtype: Dtype, shape: &[usize]) -> Result<&'a [u8], String> {
        let t = self
            .st
            .tensor(name)
            .map_err(|_| format!("the model file has no tensor `{name}`"))?;
        if t.dtype() != dtype || t.shape() != shape {
            return Err(format!(
                "tensor `{name}` is {:?} {:?}, expected {dtype:?} {shape:?}",
                t.dtype(),
                t.shape()
            ));
        }
        Ok(t.data())
    }

    fn i8(&self, name: &str, shape: &[usize]) -> Result<&'a [i8], String> {
        Ok(bytemuck::cast_slice(self.raw(name, Dtype::I8, shape)?))
    }

    fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        let b = self.raw(name, Dtype::F32, shape)?;
        let v: Vec<f32> = b
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(bad) = v.iter().position(|x| !x.is_finite()) {
            return Err(format!("tensor `{name}` holds a non-finite value at {bad}"));
        }
        Ok(v)
    }

    fn linear(&self, name: &str, n_in: usize, n_out: usize) -> Result<Linear<'a>, String> {
        if !n_in.is_multiple_of(16) || !n_out.is_multiple_of(4) {
            return Err(format!(
                "layer `{name}` is {n_in} → {n_out}: the kernel needs inputs in sixteens and outputs in fours"
            ));
        }
        Ok(Linear {
            q: self.i8(&format!("{name}.q"), &[n_out, n_in])?,
            scale: self.f32(&format!("{name}.scale"), &[n_out])?,
            b: self.f32(&format!("{name}.b"), &[n_out])?,
            n_in,
            n_out,
        })
    }

    fn norm(&self, name: &str, width: usize) -> Result<Norm, String> {
        Ok(Norm {
            g: self.f32(&format!("{name}.g"), &[width])?,
            b: self.f32(&format!("{name}.b"), &[width])?,
        })
    }
}

fn meta_of(bytes: &[u8]) -> Result<(Meta, usize, usize), String> {
    let (_, header) =
        SafeTensors::read_metadata(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
    let meta = header
        .metadata()
        .as_ref()
        .ok_or("the model file has no __metadata__")?;
    let get = |k: &str| {
        meta.get(k)
            .map(String::as_str)
            .ok_or_else(|| format!("the model file's metadata has no `{k}`"))
    };
    let format = get("format")?;
    if format != FORMAT {
        return Err(format!(
            "the model file is `{format}`; this agent reads `{FORMAT}`: rebuild the agent with the model's own version"
        ));
    }
    if get("labels")? != LABELS {
        return Err(format!(
            "the model's labels are `{}`, expected `{LABELS}`",
            get("labels")?
        ));
    }
    let num = |k: &str| {
        get(k)?
            .parse::<usize>()
            .map_err(|e| format!("metadata `{k}`: {e}"))
    };
    let meta = Meta {
        version: get("version")?.to_string(),
        heads: num("heads")?,
        max_len: num("max_len")?,
    };
    Ok((meta, num("layers")?, header.data_len()))
}

impl<'a> Model<'a> {
    /// Load a model file (read in place: int8 tensors borrow `bytes`).
    ///
    /// # Errors
    /// What is wrong with the file: not safetensors, another format, a
    /// missing or misshapen tensor, a non-finite value.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, String> {
        let (meta, layers, _) = meta_of(bytes)?;
        let st =
            SafeTensors::deserialize(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
        let file = File { st };
        let vocab_bytes = file
            .st
            .tensor("vocab")
            .map_err(|_| "the model file has no tensor `vocab`".to_string())?
            .data();
        let vocab = std::str::from_utf8(vocab_bytes)
            .map_err(|e| format!("the vocabulary is not UTF-8: {e}"))?;
        let tokenizer = Tokenizer::new(vocab)?;
        let tok = file
            .st
            .tensor("tok.q")
            .map_err(|_| "the model file has no tensor `tok.q`".to_string())?;
        let [v, width] = *tok.shape() else {
            return Err("tensor `tok.q` is not a matrix".into());
        };
        if v != tokenizer.len() {
            return Err(format!(
                "{v} token embeddings for {} vocabulary pieces",
                tokenizer.len()
            ));
        }
        if meta.heads == 0
            || width % meta.heads != 0
            || (width / meta.heads) % 4 != 0
            || meta.max_len < 2
        {
            return Err(format!(
                "width {width} with {} heads and max_len {}",
                meta.heads, meta.max_len
            ));
        }
        let ffn = file
            .st
            .tensor("layers.0.ff1.q")
            .map_err(|_| "the model file has no tensor `layers.0.ff1.q`".to_string())?
            .shape()
            .first()
            .copied()
            .unwrap_or(0);
        let layers = (0..layers)
            .map(|n| {
                let p = |s: &str| format!("layers.{n}.{s}");
                Ok(Layer {
                    q: file.linear(&p("q"), width, width)?,
                    k: file.linear(&p("k"), width, width)?,
                    v: file.linear(&p("v"), width, width)?,
                    o: file.linear(&p("o"), width, width)?,
                    ff1: file.linear(&p("ff1"), width, ffn)?,
                    ff2: file.linear(&p("ff2"), ffn, width)?,
                    ln1: file.norm(&p("ln1"), width)?,
                    ln2: file.norm(&p("ln2"), width)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            tok_q: file.i8("tok.q", &[v, width])?,
            tok_scale: file.f32("tok.scale", &[v])?,
            pos: file.f32("pos", &[meta.max_len, width])?,
            ln0: Norm {
                g: file.f32("ln0.g", &[width])?,
                b: file.f32("ln0.b", &[width])?,
            },
            head_w: file.f32("head.w", &[3, width])?,
            head_b: file.f32("head.b", &[3])?,
            layers,
            width,
            tokenizer,
            gelu: Gelu::new(),
            meta,
        })
    }

    /// The ids the model reads for `text`.
    pub fn ids(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text, self.meta.max_len)
    }

    /// Class probabilities of `text`.
    pub fn classify(&self, text: &str) -> Probabilities {
        self.forward(&self.ids(text))
    }

    /// Class probabilities of an id sequence as [`Model::ids`] makes it
    /// (`[CLS]` … `[SEP]`, ids of the vocabulary; past `max_len` ignored).
    /// No ids at all reads as the empty headline.
    pub fn forward(&self, ids: &[u32]) -> Probabilities {
        if ids.is_empty() {
            return self.forward(&self.ids(""));
        }
        let d = self.width;
        let len = ids.len().min(self.meta.max_len);
        let mut x = vec![0f32; len * d];
        for (t, &id) in ids[..len].iter().enumerate() {
            let id = id as usize;
            let (q, s) = (&self.tok_q[id * d..(id + 1) * d], self.tok_scale[id]);
            for ((xi, &qi), &p) in x[t * d..(t + 1) * d]
                .iter_mut()
                .zip(q)
                .zip(&self.pos[t * d..])
            {
                *xi = f32::from(qi) * s + p;
            }
        }
        layer_norm(&mut x, d, &self.ln0);
        for layer in &self.layers {
            self.layer(layer, &mut x, len);
        }
        let mut pooled = vec![0f32; d];
        for row in x.chunks_exact(d) {
            vector::add(&mut pooled, row);
        }
        for p in &mut pooled {
            *p /= len as f32;
        }
        let mut z = [0f32; 3];
        for (c, zc) in z.iter_mut().enumerate() {
            *zc = vector::dot(&self.head_w[c * d..(c + 1) * d], &pooled) + self.head_b[c];
        }
        softmax(&mut z);
        z
    }

    fn layer(&self, l: &Layer, x: &mut [f32], len: usize) {
        let d = self.width;
        let heads = self.meta.heads;
        let hd = d / heads;
        // q, k and v read the same input: quantize it once.
        let input = Quantized::of(x, d);
        let (q, k, v) = (
            input.through(&l.q),
            input.through(&l.k),
            input.through(&l.v),
        );
        let mut ctx = vec![0f32; len * d];
        let scale = (hd as f32).sqrt();
        let mut a = vec![0f32; len];
        for h in 0..heads {
            for i in 0..len {
                let qi = head_of(&q, i, h, d, hd);
                for (j, aj) in a.iter_mut().enumerate() {
                    *aj = vector::dot(qi, head_of(&k, j, h, d, hd)) / scale;
                }
                softmax(&mut a);
                let out = &mut ctx[i * d + h * hd..i * d + (h + 1) * hd];
                for (j, &aj) in a.iter().enumerate() {
                    vector::axpy(out, aj, head_of(&v, j, h, d, hd));
                }
            }
        }
        let o = Quantized::of(&ctx, d).through(&l.o);
        add_norm(x, &o, d, &l.ln1);
        let mut h = Quantized::of(x, d).through(&l.ff1);
        for v in &mut h {
            *v = self.gelu.apply(*v);
        }
        let f = Quantized::of(&h, l.ff2.n_in).through(&l.ff2);
        add_norm(x, &f, d, &l.ln2);
    }
}

/// GELU, `x · Φ(x)`, with Φ read from a table (step 1/256 on [−6, 6],
/// linearly interpolated: within 5e-7 of the exact Φ). `erff` costs five
/// times as many float operations, and the FFN has 1,536 of them a token.
struct Gelu {
    phi: Vec<f32>,
    step: Vec<f32>,
}

impl Gelu {
    const LO: f32 = -6.0;
    const PER_UNIT: f32 = 256.0;
    const POINTS: usize = 12 * 256 + 1;

    fn new() -> Self {
        let phi: Vec<f32> = (0..Self::POINTS)
            .map(|i| {
                let x = f64::from(Self::LO) + i as f64 / f64::from(Self::PER_UNIT);
                (0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))) as f32
            })
            .collect();
        let step = phi.windows(2).map(|w| w[1] - w[0]).collect();
        Self { phi, step }
    }

    fn apply(&self, x: f32) -> f32 {
        if x <= Self::LO {
            return 0.0;
        }
        if x >= -Self::LO {
            return x;
        }
        let u = (x - Self::LO) * Self::PER_UNIT;
        let i = (u as usize).min(self.step.len() - 1);
        let f = u - i as f32;
        x * (self.phi[i] + f * self.step[i])
    }
}

/// Rows quantized to int8 for the linear layers that read them.
struct Quantized {
    q: Vec<i8>,
    scales: Vec<f32>,
}

impl Quantized {
    fn of(x: &[f32], n: usize) -> Self {
        let mut q = vec![0i8; x.len()];
        let scales = x
            .chunks_exact(n)
            .zip(q.chunks_exact_mut(n))
            .map(|(row, q)| vector::quantize(row, q))
            .collect();
        Self { q, scales }
    }

    /// The rows through `l`.
    fn through(&self, l: &Linear) -> Vec<f32> {
        let len = self.scales.len();
        let mut acc = vec![0i32; len * l.n_out];
        matmul(&self.q, l.q, l.n_in, &mut acc);
        let mut out = vec![0f32; len * l.n_out];
        for ((y, a), &s) in out
            .chunks_exact_mut(l.n_out)
            .zip(acc.chunks_exact(l.n_out))
            .zip(&self.scales)
        {
            vector::dequantize(y, a, s, &l.scale, &l.b);
        }
        out
    }
}

/// Head `h`'s `hd` values of token `t` in `m` (rows of width `d`).
fn head_of(m: &[f32], t: usize, h: usize, d: usize, hd: usize) -> &[f32] {
    &m[t * d + h * hd..t * d + (h + 1) * hd]
}

fn softmax(z: &mut [f32]) {
    let m = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = libm::expf(*v - m);
        sum += *v;
    }
    for v in z.iter_mut() {
        *v /= sum;
    }
}

fn add_norm(x: &mut [f32], y: &[f32], d: usize, n: &Norm) {
    vector::add(x, y);
    layer_norm(x, d, n);
}

fn layer_norm(x: &mut [f32], d: usize, n: &Norm) {
    for row in x.chunks_exact_mut(d) {
        let mean = vector::sum(row) / d as f32;
        let var = vector::sum_sq_dev(row, mean) / d as f32;
        vector::normalize(row, mean, (var + LN_EPS).sqrt(), &n.g, &n.b);
    }
}
