//! The node's unit tests: calls with their parameters' defaults left out.

use super::args::{args_from_recon, args_recon};
use crate::warp::{Item, Value};
use weft_compiler::manifest::{MethodDesc, ParamDesc, TypeDesc};

fn method(defaults: &[bool]) -> MethodDesc {
    MethodDesc {
        name: "m".into(),
        command: true,
        params: defaults
            .iter()
            .enumerate()
            .map(|(i, d)| ParamDesc {
                name: format!("p{i}"),
                ty: TypeDesc::Int,
                default: *d,
            })
            .collect(),
        result: TypeDesc::Unit,
        export: String::new(),
        at: String::new(),
    }
}

#[test]
fn trailing_defaulted_arguments_may_be_left_out() {
    let n = Value::Int;
    let two = method(&[false, true]);
    let given = Value::record([Item::Value(n(1)), Item::Value(n(2))]);
    assert_eq!(args_from_recon(&two, &given, &[]).map(|b| b.len()), Ok(16));
    let short = Value::record([Item::Value(n(1))]);
    assert_eq!(
        args_from_recon(&two, &short, &[]),
        Ok(1i64.to_le_bytes().to_vec())
    );
    // Only the last ones: the wire has no gaps.
    let gap = Value::record([Item::Slot(Value::text("p1"), n(2))]);
    let three = method(&[false, true, true]);
    assert!(args_from_recon(&three, &gap, &[]).is_err());
    let gap = Value::record([Item::Value(n(1)), Item::Slot(Value::text("p2"), n(3))]);
    assert!(args_from_recon(&three, &gap, &[]).is_err());
    assert!(args_from_recon(&method(&[false, false]), &short, &[]).is_err());
    assert_eq!(
        args_from_recon(&method(&[true]), &Value::Absent, &[]),
        Ok(vec![])
    );
    // And back, for the echo of a command lane: what was sent, no more.
    let slot = |k: &str, v: i64| Item::Slot(Value::text(k), Value::Int(v));
    let bytes = args_from_recon(&three, &short, &[]).unwrap_or_default();
    assert_eq!(
        args_recon(&three, &bytes, &[]),
        Ok(Value::record([slot("p0", 1)]))
    );
    let bytes = args_from_recon(&three, &given, &[]).unwrap_or_default();
    assert_eq!(
        args_recon(&three, &bytes, &[]),
        Ok(Value::record([slot("p0", 1), slot("p1", 2)]))
    );
    assert_eq!(args_recon(&method(&[true]), &[], &[]), Ok(Value::Absent));
    assert!(args_recon(&method(&[false, false]), &bytes[..8], &[]).is_err());
}
