//! Optional initialisation of the GPT's blocks from pretrained GPT-2 weights in a local
//! safetensors file (Hugging Face naming: `h.{i}.attn.c_attn.weight`, ...). Nothing is
//! downloaded. The gait vocabulary differs from GPT-2's, so token embeddings and the output
//! head stay freshly initialised; blocks, the final `LayerNorm` and the first `context` position
//! embeddings are loaded. Needs the model width to equal GPT-2's `n_embd` (768 for the small
//! model) and at most as many layers as the file has. GPT-2's tanh-approximated GELU differs
//! slightly from burn's exact GELU; fine-tuning absorbs it.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Param;
use burn::prelude::*;

use super::ModelError;
use super::gpt::Gpt;

/// One tensor in a safetensors file: shape and f32 values.
#[derive(Debug)]
struct Entry {
    shape: Vec<usize>,
    data: Vec<f32>,
}

fn err(path: &Path, m: impl Into<String>) -> ModelError {
    ModelError::Files {
        path: path.display().to_string(),
        message: m.into(),
    }
}

/// A JSON array of non-negative integers (missing or malformed: empty).
/// Reads every F32 tensor of a safetensors file through the `safetensors` crate, which checks
/// the header length, the offsets and the sizes against the file (a crafted header is an
/// error, never a panic).
fn read_safetensors(path: &Path) -> Result<BTreeMap<String, Entry>, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| err(path, e.to_string()))?;
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| err(path, format!("not a valid safetensors file: {e}")))?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(err(
                path,
                format!("tensor '{name}' is {:?}, not F32", view.dtype()),
            ));
        }
        let data: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.insert(
            name.trim_start_matches("transformer.").to_string(),
            Entry {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok(out)
}

fn get<'a>(
    t: &'a BTreeMap<String, Entry>,
    path: &Path,
    name: &str,
    shape: &[usize],
) -> Result<&'a Entry, ModelError> {
    let e = t
        .get(name)
        .ok_or_else(|| err(path, format!("missing tensor '{name}'")))?;
    if e.shape != shape {
        return Err(err(
            path,
            format!(
                "tensor '{name}' has shape {:?}, the model needs {shape:?} (is the width right?)",
                e.shape
            ),
        ));
    }
    Ok(e)
}

fn tensor1(v: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

fn tensor2(v: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v, [rows, cols]), device)
}

/// Columns `[c0, c1)` of a row-major `[rows, cols]` matrix.
fn columns(e: &Entry, c0: usize, c1: usize) -> Vec<f32> {
    let cols = e.shape[1];
    e.data
        .chunks_exact(cols)
        .flat_map(|r| r[c0..c1].iter().copied())
        .collect()
}

fn set2(p: Param<Tensor<2>>, t: Tensor<2>) -> Param<Tensor<2>> {
    p.map(|_| t)
}

fn set1(p: Param<Tensor<1>>, t: Tensor<1>) -> Param<Tensor<1>> {
    p.map(|_| t)
}

impl Gpt {
    /// Loads GPT-2 blocks, final `LayerNorm` and position embeddings from `path`; returns the
    /// model and the number of blocks loaded.
    ///
    /// # Errors
    /// Unreadable or malformed files, missing tensors, or shapes that do not fit the model.
    pub fn load_gpt2(mut self, path: &Path) -> Result<(Self, usize), ModelError> {
        let t = read_safetensors(path)?;
        let w = self.width();
        let device = self.device();
        for (i, blk) in self.blocks_mut().iter_mut().enumerate() {
            let p = |s: &str| format!("h.{i}.{s}");
            let ln = |n: &str| get(&t, path, &p(n), &[w]).map(|e| tensor1(e.data.clone(), &device));
            blk.ln1.gamma = set1(blk.ln1.gamma.clone(), ln("ln_1.weight")?);
            blk.ln2.gamma = set1(blk.ln2.gamma.clone(), ln("ln_2.weight")?);
            if let Some(b) = blk.ln1.beta.take() {
                blk.ln1.beta = Some(set1(b, ln("ln_1.bias")?));
            }
            if let Some(b) = blk.ln2.beta.take() {
                blk.ln2.beta = Some(set1(b, ln("ln_2.bias")?));
            }
            let qkv = get(&t, path, &p("attn.c_attn.weight"), &[w, 3 * w])?;
            let qkv_b = get(&t, path, &p("attn.c_attn.bias"), &[3 * w])?;
            let a = &mut blk.attn;
            for (k, lin) in [&mut a.query, &mut a.key, &mut a.value]
                .into_iter()
                .enumerate()
            {
                lin.weight = set2(
                    lin.weight.clone(),
                    tensor2(columns(qkv, k * w, (k + 1) * w), w, w, &device),
                );
                if let Some(b) = lin.bias.take() {
                    lin.bias = Some(set1(
                        b,
                        tensor1(qkv_b.data[k * w..(k + 1) * w].to_vec(), &device),
                    ));
                }
            }
            for (lin, name, i_dim, o_dim) in [
                (&mut a.output, "attn.c_proj", w, w),
                (&mut blk.fc, "mlp.c_fc", w, 4 * w),
                (&mut blk.proj, "mlp.c_proj", 4 * w, w),
            ] {
                let e = get(&t, path, &p(&format!("{name}.weight")), &[i_dim, o_dim])?;
                lin.weight = set2(
                    lin.weight.clone(),
                    tensor2(e.data.clone(), i_dim, o_dim, &device),
                );
                let eb = get(&t, path, &p(&format!("{name}.bias")), &[o_dim])?;
                if let Some(b) = lin.bias.take() {
                    lin.bias = Some(set1(b, tensor1(eb.data.clone(), &device)));
                }
            }
        }
        let n = self.blocks_mut().len();
        let ctx = self.context();
        let lnf_w = get(&t, path, "ln_f.weight", &[w])?.data.clone();
        let lnf_b = get(&t, path, "ln_f.bias", &[w])?.data.clone();
        let wpe = t
            .get("wpe.weight")
            .ok_or_else(|| err(path, "missing tensor 'wpe.weight'"))?;
        if wpe.shape.len() != 2 || wpe.shape[1] != w || wpe.shape[0] < ctx {
            return Err(err(
                path,
                format!(
                    "wpe.weight has shape {:?}, the model needs at least [{ctx}, {w}]",
                    wpe.shape
                ),
            ));
        }
        self.set_final(
            tensor1(lnf_w, &device),
            tensor1(lnf_b, &device),
            tensor2(wpe.data[..ctx * w].to_vec(), ctx, w, &device),
        );
        Ok((self, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::gpt::GptConfig;

    fn write(path: &Path, tensors: &[(&str, Vec<usize>)]) -> BTreeMap<String, Vec<f32>> {
        let mut header = serde_json::Map::new();
        let mut data: Vec<u8> = Vec::new();
        let mut values = BTreeMap::new();
        for (k, (name, shape)) in tensors.iter().enumerate() {
            let n: usize = shape.iter().product();
            let v: Vec<f32> = (0..n).map(|i| (k * 1000 + i) as f32 * 1e-3).collect();
            let a = data.len();
            data.extend(v.iter().flat_map(|x| x.to_le_bytes()));
            header.insert((*name).into(), serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [a, data.len()]}));
            values.insert((*name).to_string(), v);
        }
        let h = serde_json::to_vec(&header).unwrap();
        let mut bytes = (h.len() as u64).to_le_bytes().to_vec();
        bytes.extend(h);
        bytes.extend(data);
        std::fs::write(path, bytes).unwrap();
        values
    }

    #[test]
    fn crafted_safetensors_headers_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bad.safetensors");
        let mut cases: Vec<Vec<u8>> = vec![
            u64::MAX.to_le_bytes().to_vec(),
            (usize::MAX as u64 - 7).to_le_bytes().to_vec(),
            vec![1, 2, 3],
        ];
        let h = br#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,1000000]}}"#;
        let mut past_end = (h.len() as u64).to_le_bytes().to_vec();
        past_end.extend_from_slice(h);
        past_end.extend_from_slice(&[0; 16]);
        cases.push(past_end);
        for bytes in cases {
            std::fs::write(&f, &bytes).unwrap();
            let e = read_safetensors(&f).unwrap_err().to_string();
            assert!(e.contains("bad.safetensors"), "{e}");
        }
    }

    #[test]
    fn gpt2_blocks_load_with_qkv_split() {
        let w = 4;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("gpt2.safetensors");
        let names = vec![
            ("h.0.ln_1.weight", vec![w]),
            ("h.0.ln_1.bias", vec![w]),
            ("h.0.ln_2.weight", vec![w]),
            ("h.0.ln_2.bias", vec![w]),
            ("h.0.attn.c_attn.weight", vec![w, 3 * w]),
            ("h.0.attn.c_attn.bias", vec![3 * w]),
            ("h.0.attn.c_proj.weight", vec![w, w]),
            ("h.0.attn.c_proj.bias", vec![w]),
            ("h.0.mlp.c_fc.weight", vec![w, 4 * w]),
            ("h.0.mlp.c_fc.bias", vec![4 * w]),
            ("h.0.mlp.c_proj.weight", vec![4 * w, w]),
            ("h.0.mlp.c_proj.bias", vec![w]),
            ("ln_f.weight", vec![w]),
            ("ln_f.bias", vec![w]),
            ("wpe.weight", vec![16, w]),
        ];
        let values = write(&f, &names);
        let device = Device::flex();
        let g = GptConfig {
            vocab: 10,
            context: 8,
            width: w,
            layers: 1,
            heads: 2,
            dropout: 0.0,
        }
        .init(&device);
        let (mut g, n) = g.load_gpt2(&f).unwrap();
        assert_eq!(n, 1);
        let key: Vec<f32> = g.blocks_mut()[0]
            .attn
            .key
            .weight
            .val()
            .into_data()
            .try_to_vec_as::<f32>()
            .unwrap();
        let qkv = &values["h.0.attn.c_attn.weight"];
        let expect: Vec<f32> = qkv
            .chunks_exact(3 * w)
            .flat_map(|r| r[w..2 * w].to_vec())
            .collect();
        assert_eq!(key, expect);
        // A file for a wider model is refused with the tensor and shapes named.
        let g2 = GptConfig {
            vocab: 10,
            context: 8,
            width: 8,
            layers: 1,
            heads: 2,
            dropout: 0.0,
        }
        .init(&device);
        let e = g2.load_gpt2(&f).unwrap_err().to_string();
        assert!(e.contains("h.0.ln_1.weight") && e.contains("[4]"), "{e}");
        std::fs::write(&f, b"xx").unwrap();
        assert!(
            GptConfig {
                vocab: 10,
                context: 8,
                width: w,
                layers: 1,
                heads: 2,
                dropout: 0.0
            }
            .init(&device)
            .load_gpt2(&f)
            .is_err()
        );
    }
}
