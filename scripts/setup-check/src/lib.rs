//! Empty: the check is its build script, which Cargo runs before torch-sys's (it has no dependencies).
