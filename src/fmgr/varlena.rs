//! Varlena values: their bytes (read in place where PostgreSQL allows), new ones, the buffer
//! of a receive function, and flat states an aggregate updates in place.

use super::{arg, called_as_aggregate, strict_arg};
use pgrx::pg_sys::{self, Datum, FunctionCallInfo};

/// The bytes of a (possibly toasted or short-header) varlena argument. Values stored
/// inline and uncompressed, as keys and amounts nearly always are, are read in place
/// without a call into PostgreSQL (such calls pass pgrx's FFI guard, which costs on every
/// row); only compressed or external values are detoasted.
pub unsafe fn varlena_bytes<'a>(d: Datum) -> &'a [u8] {
    // The header tests below are PostgreSQL's little-endian VARATT_IS_1B/_1B_E/_4B_U.
    const _: () = assert!(
        cfg!(target_endian = "little"),
        "varlena header tests assume little-endian"
    );
    let v = d.cast_mut_ptr::<pg_sys::varlena>();
    let first = *(v as *const u8);
    let inline = if first & 0x01 == 0x01 {
        first != 0x01 // 1-byte header; 0x01 alone marks an external TOAST pointer
    } else {
        first & 0x03 == 0x00 // 4-byte header, not compressed
    };
    let v = if inline {
        v
    } else {
        pg_sys::pg_detoast_datum_packed(v)
    };
    pgrx::varlena::varlena_to_byte_slice(v)
}

/// A new varlena of `len` payload bytes in the current memory context, filled by `fill`.
pub unsafe fn new_varlena(len: usize, fill: impl FnOnce(&mut [u8])) -> Datum {
    let total = len + pg_sys::VARHDRSZ;
    let ptr = pg_sys::palloc(total) as *mut pg_sys::varlena;
    pgrx::varlena::set_varsize_4b(ptr, total as i32);
    let payload = std::slice::from_raw_parts_mut((ptr as *mut u8).add(pg_sys::VARHDRSZ), len);
    fill(payload);
    Datum::from(ptr)
}

/// A new varlena holding `bytes`, in the current memory context.
pub unsafe fn bytes_datum(bytes: &[u8]) -> Datum {
    new_varlena(bytes.len(), |out| out.copy_from_slice(bytes))
}

/// The unread bytes of the `StringInfo` a type receive function gets; marks them read.
pub unsafe fn receive_buffer<'a>(fcinfo: FunctionCallInfo) -> &'a [u8] {
    let buf = strict_arg(fcinfo, 0).cast_mut_ptr::<pg_sys::StringInfoData>();
    let start = (*buf).cursor as usize;
    let end = (*buf).len as usize;
    (*buf).cursor = (*buf).len;
    std::slice::from_raw_parts(((*buf).data as *const u8).add(start), end - start)
}

/// The payload of a plain (4-byte header, uncompressed, inline) varlena, which an aggregate
/// may update in place.
pub unsafe fn plain_payload<'a>(d: Datum) -> Option<&'a mut [u8]> {
    let v = d.cast_mut_ptr::<u8>();
    // VARATT_IS_4B_U on little-endian: low two bits 00
    if *v & 0x03 != 0 {
        return None;
    }
    let len = (std::ptr::read_unaligned(v as *const u32) >> 2) as usize;
    if len < pg_sys::VARHDRSZ {
        return None;
    }
    Some(std::slice::from_raw_parts_mut(
        v.add(pg_sys::VARHDRSZ),
        len - pg_sys::VARHDRSZ,
    ))
}

/// The flat varlena state in argument 0 to update: itself inside an aggregate (the
/// executor's own transition value), else a copy of the bytes `used` says are in use; a new
/// state of `empty()` for a NULL one. `used(bytes, own)` checks a state and returns how many
/// of its bytes are in use; `own` says it is the aggregate's own transition value (made by
/// the aggregate's functions), else a value from outside (a direct call's argument).
pub unsafe fn varlena_for_update<'a>(
    fcinfo: FunctionCallInfo,
    empty: impl FnOnce() -> Vec<u8>,
    used: impl Fn(&[u8], bool) -> usize,
) -> (Datum, &'a mut [u8]) {
    let d = match arg(fcinfo, 0) {
        None => bytes_datum(&empty()),
        Some(d) => {
            if called_as_aggregate(fcinfo) {
                if let Some(payload) = plain_payload(d) {
                    used(payload, true);
                    return (d, payload);
                }
            }
            let bytes = varlena_bytes(d);
            bytes_datum(&bytes[..used(bytes, false)])
        }
    };
    (d, plain_payload(d).expect("a new varlena is plain"))
}
