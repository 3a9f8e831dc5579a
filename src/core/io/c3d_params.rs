//! The C3D parameter section (C3D.org, "The C3D file format", chapters 2-3): groups of typed,
//! dimensioned parameters. Encoded here for the writer and decoded for what c3dio's reader
//! drops (the EVENT group) and for tests that check a written file field by field.
//!
//! Layout of one record, Intel byte order: name length (i8, negative when locked), group id
//! (i8: negative for a group, the owning group's id for a parameter), the name, a 16-bit offset
//! from that word to the next record, then for a parameter the type (-1 char, 1 byte, 2 int16,
//! 4 float), the dimension count and one byte per dimension, the data (first dimension varying
//! fastest), and last for both a description length and description.

/// Processor type byte of the parameter section for little-endian IEEE files (Intel).
pub const PROCESSOR_INTEL: u8 = 84;
/// DEC (VAX) floats, little-endian integers.
pub const PROCESSOR_DEC: u8 = 85;
/// MIPS/SGI: big-endian IEEE.
pub const PROCESSOR_MIPS: u8 = 86;

/// The values of one parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamData {
    /// Characters (type -1); a string array has dims `[length, count]`.
    Chars(Vec<u8>),
    /// Bytes (type 1).
    Bytes(Vec<u8>),
    /// 16-bit integers (type 2).
    Int16(Vec<i16>),
    /// 32-bit floats (type 4).
    Float(Vec<f32>),
}

/// One parameter: name, dimensions and values.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Upper-case name.
    pub name: String,
    /// Dimensions, first varying fastest (empty for a scalar).
    pub dims: Vec<u8>,
    /// Values.
    pub data: ParamData,
    /// Free description.
    pub description: String,
}

/// Why a parameter cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// A dimension or name exceeds what one byte can say.
    #[error("parameter {group}:{name}: {what}")]
    TooLarge {
        /// Group name.
        group: String,
        /// Parameter name.
        name: String,
        /// What is too large.
        what: String,
    },
    /// The parameter section is cut short or inconsistent.
    #[error("malformed parameter section: {0}")]
    Malformed(String),
}

impl Param {
    /// A 16-bit integer scalar.
    #[must_use]
    pub fn int(name: &str, v: i16, description: &str) -> Self {
        Self::new(name, Vec::new(), ParamData::Int16(vec![v]), description)
    }

    /// A 16-bit integer vector (one dimension).
    #[must_use]
    pub fn ints(name: &str, v: Vec<i16>, description: &str) -> Self {
        let n = v.len().min(255) as u8;
        Self::new(name, vec![n], ParamData::Int16(v), description)
    }

    /// A float scalar.
    #[must_use]
    pub fn float(name: &str, v: f32, description: &str) -> Self {
        Self::new(name, Vec::new(), ParamData::Float(vec![v]), description)
    }

    /// A float array of the given dimensions.
    #[must_use]
    pub fn floats(name: &str, dims: Vec<u8>, v: Vec<f32>, description: &str) -> Self {
        Self::new(name, dims, ParamData::Float(v), description)
    }

    /// One string (dims `[length]`).
    #[must_use]
    pub fn string(name: &str, s: &str, description: &str) -> Self {
        let bytes = ascii(s, 255);
        Self::new(
            name,
            vec![bytes.len() as u8],
            ParamData::Chars(bytes),
            description,
        )
    }

    /// A string array: every entry padded with spaces to the longest (dims `[length, count]`).
    /// Entries are cut at 255 characters, the most one dimension can say.
    #[must_use]
    pub fn strings(name: &str, items: &[String], description: &str) -> Self {
        let enc: Vec<Vec<u8>> = items.iter().map(|s| ascii(s, 255)).collect();
        let len = enc.iter().map(Vec::len).max().unwrap_or(0);
        let mut bytes = Vec::with_capacity(len * enc.len());
        for e in &enc {
            bytes.extend_from_slice(e);
            bytes.resize(bytes.len() + len - e.len(), b' ');
        }
        Self::new(
            name,
            vec![len as u8, enc.len().min(255) as u8],
            ParamData::Chars(bytes),
            description,
        )
    }

    fn new(name: &str, dims: Vec<u8>, data: ParamData, description: &str) -> Self {
        Self {
            name: name.to_ascii_uppercase(),
            dims,
            data,
            description: description.to_string(),
        }
    }

    /// Values as strings: a char array split into its entries with trailing blanks trimmed.
    #[must_use]
    pub fn as_strings(&self) -> Vec<String> {
        let ParamData::Chars(b) = &self.data else {
            return Vec::new();
        };
        let len = self.dims.first().map_or(b.len(), |&d| usize::from(d));
        if len == 0 {
            return Vec::new();
        }
        b.chunks(len)
            .map(|c| {
                String::from_utf8_lossy(c)
                    .trim_end_matches([' ', '\0'])
                    .to_string()
            })
            .collect()
    }

    /// Values as floats (integers and bytes converted).
    #[must_use]
    pub fn as_f32(&self) -> Vec<f32> {
        match &self.data {
            ParamData::Float(v) => v.clone(),
            ParamData::Int16(v) => v.iter().map(|&x| f32::from(x)).collect(),
            ParamData::Bytes(v) => v.iter().map(|&x| f32::from(x)).collect(),
            ParamData::Chars(_) => Vec::new(),
        }
    }

    fn type_code(&self) -> i8 {
        match self.data {
            ParamData::Chars(_) => -1,
            ParamData::Bytes(_) => 1,
            ParamData::Int16(_) => 2,
            ParamData::Float(_) => 4,
        }
    }

    fn data_bytes(&self) -> Vec<u8> {
        match &self.data {
            ParamData::Chars(b) | ParamData::Bytes(b) => b.clone(),
            ParamData::Int16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ParamData::Float(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }
}

/// Printable ASCII of `s` (anything else becomes '_'), at most `max` bytes.
fn ascii(s: &str, max: usize) -> Vec<u8> {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c as u8
            } else {
                b'_'
            }
        })
        .take(max)
        .collect()
}

/// A group of parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Upper-case name.
    pub name: String,
    /// Free description.
    pub description: String,
    /// Parameters in file order.
    pub params: Vec<Param>,
}

impl Group {
    /// A group with its parameters.
    #[must_use]
    pub fn new(name: &str, description: &str, params: Vec<Param>) -> Self {
        Self {
            name: name.to_ascii_uppercase(),
            description: description.to_string(),
            params,
        }
    }

    /// The parameter of that name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

/// Looks a parameter up as `GROUP`, `NAME`.
#[must_use]
pub fn find<'a>(groups: &'a [Group], group: &str, name: &str) -> Option<&'a Param> {
    groups
        .iter()
        .find(|g| g.name.eq_ignore_ascii_case(group))
        .and_then(|g| g.get(name))
}

fn name_byte(group: &str, name: &str) -> Result<u8, ParamError> {
    if name.is_empty() || name.len() > 127 {
        return Err(ParamError::TooLarge {
            group: group.into(),
            name: name.into(),
            what: "name must have 1 to 127 characters".into(),
        });
    }
    Ok(name.len() as u8)
}

/// One group or parameter record with its offset word pointing `next` bytes ahead (0 for the
/// last record).
fn push_record(out: &mut Vec<u8>, head: [u8; 2], name: &str, body: &[u8], last: bool) {
    out.extend_from_slice(&head);
    out.extend_from_slice(name.as_bytes());
    // The offset counts from the offset word itself to the next record.
    let next = if last { 0 } else { (2 + body.len()) as i16 };
    out.extend_from_slice(&next.to_le_bytes());
    out.extend_from_slice(body);
}

fn description_bytes(d: &str) -> Vec<u8> {
    let b = ascii(d, 255);
    let mut out = vec![b.len() as u8];
    out.extend(b);
    out
}

/// Encodes the parameter section (Intel): the 4-byte section header then every group followed
/// by its parameters, padded to whole 512-byte blocks. Group ids count from 1 in list order.
///
/// # Errors
/// A name longer than 127 characters, a dimension or description too large for its byte, or
/// values that do not fill the dimensions.
pub fn encode(groups: &[Group]) -> Result<Vec<u8>, ParamError> {
    let mut records: Vec<u8> = Vec::new();
    let count: usize = groups.iter().map(|g| 1 + g.params.len()).sum();
    let mut written = 0usize;
    for (gi, g) in groups.iter().enumerate() {
        let id =
            i8::try_from(gi + 1).map_err(|_| ParamError::Malformed("too many groups".into()))?;
        written += 1;
        let head = [name_byte(&g.name, &g.name)?, (-id) as u8];
        push_record(
            &mut records,
            head,
            &g.name,
            &description_bytes(&g.description),
            written == count,
        );
        for p in &g.params {
            let want: usize = p.dims.iter().map(|&d| usize::from(d)).product();
            let have = match &p.data {
                ParamData::Chars(b) | ParamData::Bytes(b) => b.len(),
                ParamData::Int16(v) => v.len(),
                ParamData::Float(v) => v.len(),
            };
            if want != have || p.dims.len() > 7 {
                return Err(ParamError::TooLarge {
                    group: g.name.clone(),
                    name: p.name.clone(),
                    what: format!("{have} values for dimensions {:?}", p.dims),
                });
            }
            let mut body = vec![p.type_code() as u8, p.dims.len() as u8];
            body.extend_from_slice(&p.dims);
            body.extend(p.data_bytes());
            body.extend(description_bytes(&p.description));
            written += 1;
            push_record(
                &mut records,
                [name_byte(&g.name, &p.name)?, id as u8],
                &p.name,
                &body,
                written == count,
            );
        }
    }
    let blocks = (4 + records.len()).div_ceil(512).max(1);
    let blocks_u8 = u8::try_from(blocks)
        .map_err(|_| ParamError::Malformed(format!("{blocks} parameter blocks (at most 255)")))?;
    let mut out = vec![1, 0x50, blocks_u8, PROCESSOR_INTEL];
    out.extend(records);
    out.resize(blocks * 512, 0);
    Ok(out)
}

/// Byte order and float format of a file, from the parameter section's processor byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processor {
    /// Little-endian IEEE.
    Intel,
    /// Little-endian integers, VAX F floats.
    Dec,
    /// Big-endian IEEE.
    Mips,
}

impl Processor {
    /// From the processor byte.
    #[must_use]
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            PROCESSOR_INTEL => Some(Self::Intel),
            PROCESSOR_DEC => Some(Self::Dec),
            PROCESSOR_MIPS => Some(Self::Mips),
            _ => None,
        }
    }

    /// A 16-bit integer.
    #[must_use]
    pub fn i16(self, b: [u8; 2]) -> i16 {
        match self {
            Self::Mips => i16::from_be_bytes(b),
            Self::Intel | Self::Dec => i16::from_le_bytes(b),
        }
    }

    /// A 32-bit float.
    #[must_use]
    pub fn f32(self, b: [u8; 4]) -> f32 {
        match self {
            Self::Intel => f32::from_le_bytes(b),
            Self::Mips => f32::from_be_bytes(b),
            // VAX F: 16-bit halves swapped and an exponent bias 2 higher than IEEE.
            Self::Dec => f32::from_le_bytes([b[2], b[3], b[0], b[1]]) / 4.0,
        }
    }
}

/// Decodes a parameter section (starting at its 4-byte header). Parameters whose group record
/// is missing are kept in a group named after their id.
///
/// # Errors
/// An unknown processor byte or records running past the end of the section.
pub fn decode(section: &[u8]) -> Result<(Processor, Vec<Group>), ParamError> {
    let bad = |m: &str| ParamError::Malformed(m.to_string());
    if section.len() < 4 {
        return Err(bad("shorter than its 4-byte header"));
    }
    let proc = Processor::from_byte(section[3])
        .ok_or_else(|| bad(&format!("unknown processor type {}", section[3])))?;
    let mut groups: Vec<(i8, Group)> = Vec::new();
    let mut params: Vec<(i8, Param)> = Vec::new();
    let mut at = 4usize;
    while at + 2 <= section.len() {
        let name_len = usize::from((section[at] as i8).unsigned_abs());
        let id = section[at + 1] as i8;
        if name_len == 0 || id == 0 {
            break;
        }
        let name_end = at + 2 + name_len;
        let off_end = name_end + 2;
        let Some(off_bytes) = section.get(name_end..off_end) else {
            return Err(bad("record cut short"));
        };
        let name = String::from_utf8_lossy(&section[at + 2..name_end]).to_string();
        let next = proc.i16([off_bytes[0], off_bytes[1]]);
        let body = &section[off_end..];
        if id < 0 {
            let description = read_description(body).unwrap_or_default();
            groups.push((-id, Group::new(&name, &description, Vec::new())));
        } else {
            let p =
                read_param(proc, &name, body).ok_or_else(|| bad(&format!("{name} cut short")))?;
            params.push((id, p));
        }
        if next <= 0 {
            break;
        }
        at = name_end + usize::from(next.unsigned_abs());
    }
    for (id, p) in params {
        match groups.iter_mut().find(|(g, _)| *g == id) {
            Some((_, g)) => g.params.push(p),
            None => groups.push((id, Group::new(&format!("GROUP{id}"), "", vec![p]))),
        }
    }
    Ok((proc, groups.into_iter().map(|(_, g)| g).collect()))
}

fn read_description(b: &[u8]) -> Option<String> {
    let n = usize::from(*b.first()?);
    Some(String::from_utf8_lossy(b.get(1..1 + n)?).to_string())
}

fn read_param(proc: Processor, name: &str, b: &[u8]) -> Option<Param> {
    let ty = *b.first()? as i8;
    let nd = usize::from(*b.get(1)?);
    // The specification allows at most 7 dimensions; more is a damaged record.
    if nd > 7 {
        return None;
    }
    let dims = b.get(2..2 + nd)?.to_vec();
    let count = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(usize::from(d)))?;
    let start = 2 + nd;
    let width = usize::from(ty.unsigned_abs());
    let raw = b.get(start..start.checked_add(count.checked_mul(width)?)?)?;
    let data = match ty {
        -1 => ParamData::Chars(raw.to_vec()),
        1 => ParamData::Bytes(raw.to_vec()),
        2 => ParamData::Int16(raw.chunks(2).map(|c| proc.i16([c[0], c[1]])).collect()),
        4 => ParamData::Float(
            raw.chunks(4)
                .map(|c| proc.f32([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        _ => return None,
    };
    let description = read_description(&b[start + count * width..]).unwrap_or_default();
    Some(Param {
        name: name.to_string(),
        dims,
        data,
        description,
    })
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // values written and read back exactly
mod tests {
    use super::*;

    #[test]
    fn encode_then_decode_keeps_every_parameter() {
        let groups = vec![
            Group::new(
                "POINT",
                "3D points",
                vec![
                    Param::int("USED", 2, "points"),
                    Param::float("RATE", 100.0, ""),
                    Param::strings("LABELS", &["a".into(), "bcd".into()], "names"),
                    Param::string("UNITS", "mm", ""),
                ],
            ),
            Group::new(
                "EVENT",
                "",
                vec![Param::floats(
                    "TIMES",
                    vec![2, 2],
                    vec![0.0, 0.5, 0.0, 1.25],
                    "",
                )],
            ),
        ];
        let bytes = encode(&groups).unwrap();
        assert_eq!(bytes.len() % 512, 0);
        assert_eq!(&bytes[..4], &[1, 0x50, 1, PROCESSOR_INTEL]);
        let (proc, back) = decode(&bytes).unwrap();
        assert_eq!(proc, Processor::Intel);
        assert_eq!(back, groups);
        let labels = find(&back, "point", "labels").unwrap().as_strings();
        assert_eq!(labels, vec!["a", "bcd"]);
        assert_eq!(find(&back, "EVENT", "TIMES").unwrap().as_f32()[3], 1.25);
    }

    #[test]
    fn values_that_do_not_fill_their_dimensions_are_refused() {
        let mut p = Param::ints("X", vec![1, 2], "");
        p.dims = vec![3];
        let e = encode(&[Group::new("G", "", vec![p])]).unwrap_err();
        assert!(e.to_string().contains("G:X"), "{e}");
    }

    #[test]
    fn dec_and_mips_floats_decode() {
        assert_eq!(Processor::Mips.f32(2.5f32.to_be_bytes()), 2.5);
        // 1.0 as a VAX F float: 0x4080 0x0000 stored as little-endian 16-bit words.
        assert_eq!(Processor::Dec.f32([0x80, 0x40, 0x00, 0x00]), 1.0);
    }
}
