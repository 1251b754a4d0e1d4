#!/usr/bin/env bash
# Rule 1 of docs/determinism.md, checked on the built code rather than by grep: the libraries on
# the model path (nc, model, coder) may take only exact functions from libm (sqrt, fma); any
# reference to a transcendental (whose bits differ between libm versions) fails this test.
# Usage: test_no_libm.sh LIB.a...
set -u
forbidden='^(exp|exp2|expm1|log|log2|log10|log1p|pow|tanh|sinh|cosh|asinh|acosh|atanh|sin|cos|tan|sincos|asin|acos|atan|atan2|erf|erfc|cbrt|hypot|lgamma|tgamma)[fl]?$'
bad=$(nm -u "$@" | awk '{print $NF}' | sed 's/@.*//' | grep -E "$forbidden" | sort -u)
if [ -n "$bad" ]; then
    echo "test_no_libm: transcendental libm functions referenced:" $bad
    echo "test_no_libm: 0 passed, 1 failed"
    exit 1
fi
echo "test_no_libm: $(nm -u "$@" | awk '{print $NF}' | grep -cE '^(sqrt|fma)f?$') uses of sqrt/fma only; 1 passed, 0 failed"
