//! Photos without what their camera or phone wrote about them: EXIF (with its GPS position,
//! the device and the time), XMP and Photoshop's IPTC blocks are removed from JPEG files, and
//! EXIF and text chunks from PNG files, before the bytes are hashed and kept. The picture
//! itself is copied byte for byte. Pure.
//!
//! The EXIF orientation goes with the rest, so a phone photo taken sideways may show sideways:
//! rotate it before publishing if it does.

/// Why a photo's metadata could not be removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the photo's metadata (EXIF, GPS) cannot be removed: {0}")]
pub struct PhotoError(String);

fn bad(problem: &str) -> PhotoError {
    PhotoError(problem.to_owned())
}

/// The kinds of photo whose metadata is removed.
pub fn is_photo(media_type: &str) -> bool {
    matches!(media_type, "image/jpeg" | "image/png")
}

/// The photo without its metadata; other media types are answered as they are.
pub fn without_metadata(bytes: &[u8], media_type: &str) -> Result<Vec<u8>, PhotoError> {
    match media_type {
        "image/jpeg" => jpeg(bytes),
        "image/png" => png(bytes),
        _ => Ok(bytes.to_vec()),
    }
}

const EXIF: &[u8] = b"Exif\0";
const XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

fn jpeg(bytes: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let not_jpeg = || bad("the file is not a well-formed JPEG (it does not start as one)");
    if bytes.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err(not_jpeg());
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..2]);
    let mut at = 2;
    loop {
        // Fill bytes (0xFF) may come before a marker.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return Err(bad("the JPEG ends, or has bytes out of place, before its picture data"));
        };
        if marker == 0xD9 {
            out.extend_from_slice(&bytes[at..at + 2]);
            return Ok(out);
        }
        let length = bytes
            .get(at + 2..at + 4)
            .map(|length| usize::from(u16::from_be_bytes([length[0], length[1]])))
            .filter(|length| *length >= 2)
            .ok_or_else(|| bad("a JPEG segment's length is cut off or too small"))?;
        let segment =
            bytes.get(at..at + 2 + length).ok_or_else(|| bad("a JPEG segment runs past the end of the file"))?;
        let payload = &segment[4..];
        let metadata = (marker == 0xE1 && (payload.starts_with(EXIF) || payload.starts_with(XMP))) || marker == 0xED;
        if !metadata {
            out.extend_from_slice(segment);
        }
        at += 2 + length;
        if marker == 0xDA {
            // Start of scan: the picture data follows, to the end, as it is.
            out.extend_from_slice(&bytes[at..]);
            return Ok(out);
        }
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn png(bytes: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let Some(mut rest) = bytes.strip_prefix(PNG_SIGNATURE) else {
        return Err(bad("the file is not a well-formed PNG (it does not start as one)"));
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(PNG_SIGNATURE);
    while !rest.is_empty() {
        let length = rest
            .get(..4)
            .map(|length| u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize)
            .ok_or_else(|| bad("a PNG chunk's length is cut off"))?;
        let chunk = rest
            .get(..12usize.saturating_add(length))
            .ok_or_else(|| bad("a PNG chunk runs past the end of the file"))?;
        let kind = &chunk[4..8];
        if !matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt") {
            out.extend_from_slice(chunk);
        }
        rest = &rest[chunk.len()..];
        if kind == b"IEND" {
            return Ok(out);
        }
    }
    Err(bad("the PNG ends without its closing chunk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let length = (payload.len() + 2) as u16;
        [&[0xFF, marker][..], &length.to_be_bytes(), payload].concat()
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        // The CRC is copied, not checked: any four bytes do here.
        [&(data.len() as u32).to_be_bytes()[..], kind, data, &[1, 2, 3, 4]].concat()
    }

    #[test]
    fn a_jpeg_loses_its_exif_xmp_and_iptc_and_keeps_its_picture_byte_for_byte() {
        let gps = [EXIF, b"\0MM\0*GPS -7.2575 112.7521"].concat();
        let jfif = segment(0xE0, b"JFIF\0\x01\x01");
        let icc = segment(0xE2, b"ICC_PROFILE\0colours");
        let tables = segment(0xDB, &[0; 65]);
        let scan = [segment(0xDA, &[1, 2, 3]), vec![0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9]].concat();
        let photo = [
            &[0xFF, 0xD8][..],
            &jfif,
            &segment(0xE1, &gps),
            &segment(0xE1, &[XMP, b"<x:xmpmeta/>"].concat()),
            &segment(0xED, b"Photoshop 3.0\0IPTC"),
            &icc,
            &tables,
            &scan,
        ]
        .concat();
        let clean = without_metadata(&photo, "image/jpeg").unwrap();
        assert_eq!(clean, [&[0xFF, 0xD8][..], &jfif, &icc, &tables, &scan].concat());
        assert!(!clean.windows(3).any(|window| window == b"GPS"));
        // Cleaning again changes nothing.
        assert_eq!(without_metadata(&clean, "image/jpeg").unwrap(), clean);
    }

    #[test]
    fn a_png_loses_its_exif_and_text_chunks_and_keeps_the_rest() {
        let header = chunk(b"IHDR", &[0; 13]);
        let data = chunk(b"IDAT", &[9; 40]);
        let end = chunk(b"IEND", &[]);
        let photo = [
            PNG_SIGNATURE,
            &header,
            &chunk(b"eXIf", b"MM\0*GPS"),
            &chunk(b"tEXt", b"Author\0Someone"),
            &chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x/>"),
            &data,
            &end,
        ]
        .concat();
        let clean = without_metadata(&photo, "image/png").unwrap();
        assert_eq!(clean, [PNG_SIGNATURE, &header, &data, &end].concat());
    }

    #[test]
    fn a_damaged_photo_is_refused_with_what_is_wrong_and_other_files_pass_as_they_are() {
        for (bytes, media_type, says) in [
            (&b"GIF89a"[..], "image/jpeg", "not a well-formed JPEG"),
            (&[0xFF, 0xD8, 0xFF, 0xE1, 0x00][..], "image/jpeg", "length is cut off"),
            (&[0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x40, 1, 2][..], "image/jpeg", "runs past the end"),
            (&[0xFF, 0xD8, 0x00][..], "image/jpeg", "bytes out of place"),
            (&b"\x89PNG\r\n\x1a\n\0\0\0\x05IHDR"[..], "image/png", "runs past the end"),
            (&b"\x89PNG\r\n\x1a\n"[..], "image/png", "without its closing chunk"),
        ] {
            let error = without_metadata(bytes, media_type).unwrap_err().to_string();
            assert!(error.contains(says), "{error}");
        }
        assert_eq!(without_metadata(b"%PDF-1.7", "application/pdf").unwrap(), b"%PDF-1.7");
    }
}
