//! The `rest` identity backend (ma1sd's REST identity store): being written (issue 16).
