"""A realistic class of student submissions, for testing and benchmarking the similarity check.

Independent students write the reference (the tests' frozen course unless told) each in a style of their own:
styled() rewrites a module with equivalent forms picked at random at every eligible site (np.dot or .dot for @,
vstack for concatenate, swapped operands of elementwise + and *, np.square or x * x for x ** 2, temporaries made
or inlined, if statements for conditional expressions, loops for dict comprehensions, renamed locals and
parameters, reordered functions, other docstrings and comments), each keeping the results bit for bit. A quarter
of them also carry one of a few common bugs of tests/mistakes.yaml. Planted among them: copies (another
student's files through rename_and_reorder), pairs of independent students sharing a rare bug no one else has,
and copies of the reference with only their comments changed. make_class() writes a class and returns what it
planted where.

Usage: python tests/similar_class.py OUT [--size 100] [--seed 0] [--jobs N]
"""
from __future__ import annotations

import argparse
import ast
import builtins
import functools
import io
import keyword
import multiprocessing
import os
import random
import re
import time
import tokenize
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "tests" / "fixtures" / "rnn" / "solutions"  # the tests' frozen course (benchmarks pass theirs)
MISTAKES = ROOT / "tests" / "mistakes.yaml"
MARKER = re.compile(r"^\s*# (BEGIN|END) SOLUTION.*\n", re.M)
# Bugs many students make (each in about one in sixteen students: a quarter carry one of these four).
COMMON = ("concat_order_x_first", "tanh_for_sigmoid_in_forget_gate", "flipped_gru_update", "naive_sigmoid_overflow")
COMMON_SHARE = 0.25

_PLACE = re.compile(r"__gl(\d+)__")  # a placeholder statement: a docstring, a comment or a blank line
_BLANK = re.compile(r"^[ \t]+$", re.M)
_CODE = "\0"  # a placeholder's text that is code (its quotes change with the rest)
_NEVER = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)
_NP_ARRAYS = frozenset({
    "abs", "add", "amax", "amin", "arange", "array", "asarray", "clip", "concatenate", "cos", "dot", "exp", "eye",
    "full", "hstack", "log", "matmul", "max", "maximum", "mean", "min", "minimum", "multiply", "ones", "ones_like",
    "outer", "prod", "sin", "sqrt", "square", "sum", "tanh", "transpose", "vstack", "where", "zeros", "zeros_like"})
_METHODS = frozenset({"dot", "sum", "max", "min", "mean", "transpose", "astype", "copy", "reshape"})

# Other names a student gives the reference's locals and parameters (any other name gets a generic variant).
SYNONYMS = {
    "z": ["x", "a", "pre", "inp", "zz", "u", "arr"], "e": ["ez", "exp_neg", "expo", "ex", "emz"],
    "s": ["sig", "sz", "sg", "sigma", "out"], "x_t": ["xt", "x_cur", "x_step", "x_in", "xt_", "inp"],
    "h_prev": ["h_old", "hprev", "a_prev", "prev_h", "h_before", "hp"], "c_prev": ["c_old", "cprev", "prev_c", "cp"],
    "params": ["p", "weights", "parameters", "prm", "ps", "theta", "param"],
    "concat": ["stacked", "hx", "xh", "both", "combined", "joined", "cat", "inputs"],
    "f": ["ft", "forget", "f_gate", "gf", "fg"], "i": ["it", "in_gate", "i_gate", "gi", "ig"],
    "o": ["ot", "out_gate", "o_gate", "og"], "c_tilde": ["cc", "c_hat", "c_cand", "cand", "ctilde", "c_bar"],
    "c_next": ["c_new", "cnext", "new_c", "c_out"], "h_next": ["h_new", "hnext", "a_next", "new_h", "h_out"],
    "h_tilde": ["h_hat", "h_cand", "htilde", "cand", "hh"], "r": ["rt", "reset", "r_gate", "gr"],
    "T": ["n_steps", "steps", "seq_len", "Tx", "T_x", "n_t", "length"], "t": ["step_idx", "tt", "ts", "time"],
    "k": ["j", "idx", "kk", "step_k"], "m": ["batch", "n_m", "mb", "n_ex"], "n_h": ["nh", "hidden", "n_hidden", "H"],
    "h": ["hs", "h_all", "states_h", "H_seq", "hidden_states"], "c": ["cs", "c_all", "cells", "C_seq"],
    "h0": ["h_init", "h_start", "a0", "h_0"], "x": ["X", "xs", "x_seq", "inputs_seq"],
    "dh": ["dH", "grad_h", "dh_all", "dhs"], "dx": ["dX", "grad_x", "dxs"], "dc": ["dC", "grad_c", "dcs"],
    "h_t": ["ht", "h_cur", "state", "h_curr"], "c_t": ["ct", "c_cur", "cell_t", "c_curr"],
    "grads": ["gradients", "g_dict", "gs", "derivs", "grad"], "g": ["gr", "arr", "grad_arr", "v"],
    "name": ["n", "key_name", "nm", "label"], "key": ["k_", "nm", "kname", "pname"], "value": ["val", "v_", "arr_"],
    "step": ["res", "back", "out_step", "bstep", "grads_t"], "carry": ["dh_next_t", "dh_acc", "back_h", "dh_carry"],
    "da": ["dz", "d_a", "dpre", "dact"], "dconcat": ["dstack", "dxh", "dhx", "d_concat"],
    "norms": ["out", "result", "ns", "norm_list"], "product": ["prod_j", "jac", "acc", "P"],
    "global_norm": ["total_norm", "gnorm", "norm", "tot"], "scale": ["factor", "ratio", "coef", "mult"],
    "max_norm": ["clip_norm", "threshold", "max_n"], "max_value": ["clip_value", "limit", "max_v"],
    "lr": ["learning_rate", "alpha", "eta", "rate"], "shifted": ["zs", "z_shift", "stable", "ex"],
    "logits": ["scores", "zl", "out_logits"], "y": ["labels", "targets", "y_true"],
    "loss": ["cost", "ce", "l", "J"], "dlogits": ["dz_out", "dscores", "grad_logits", "d_logits"],
    "log_probs": ["logp", "log_p", "lp", "log_softmax"], "columns": ["cols", "idx_cols", "rng_m", "j_idx"],
    "cell": ["kind", "cell_type", "which", "mode"], "states": ["hist", "h_list", "all_states", "hs_list"],
    "tc": ["tanh_c", "th", "tc_next", "tanh_cn"], "pre": ["pre_acts", "das", "dpre_dict"], "gate": ["gname", "gt"],
}
_DOCS = ("Compute the {words}.", "{words}", "{first}", "Returns the {words}.", "{words} (see lecture)",
         "TODO: docstring", "Implementation of {words}.", "{lower}", "{first} Done.", "Helper: {words}.")
_MODULE_DOCS = ("Assignment: recurrent networks.", "My solutions.", "Homework code (RNN/LSTM/GRU).", "{first}",
                "Course assignment, part {n}.", "Solutions for this part of the assignment.")
_HEADERS = ("# RNN assignment", "# my solution", "# tested locally, all tests pass", "# homework",
            "# -*- coding: utf-8 -*-", "# version 2", "# assignment code")
_COMMENTS = ("# compute it", "# stack h and x", "# shapes: (n_h, m)", "# TODO: double check", "# forward pass",
             "# backward pass", "# initialise", "# this took me a while", "# see lecture notes",
             "# vectorised over the batch", "# apply the nonlinearity", "# matrix multiply", "# accumulate gradients",
             "# step through the sequence", "# keep track of the states", "# numerically stable", "# from the slides",
             "# careful with the order here", "# not sure about this one", "# works now", "# gate", "# update",
             "# same as before", "# fixed a bug here", "# helper values", "# check dims", "# per column",
             "# element-wise", "# see the formula in the docstring", "# debug: print(x.shape)")
_RETURN_COMMENTS = ("# return the result", "# done", "# output", "# return")
_LOOP_COMMENTS = ("# loop over time", "# go backwards in time", "# for each time step", "# iterate")
_TEMPS = ("result", "out", "res", "ret", "output", "answer", "value_out", "tmp", "retval")
_EXTRACTED = ("pre", "lin", "z_in", "arg", "inner", "tmp2", "pre_act", "net", "acts", "part", "a_lin")
_CONCAT_FORMS = ("keep", "vstack_list", "vstack_tuple", "concat_tuple", "concat_list", "concat_tuple_axis")


@functools.lru_cache(maxsize=None)
def reference(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """The reference modules without their solution markers: module name -> source."""
    return {path.stem: MARKER.sub("", path.read_text()) for path in sorted(solutions.glob("*.py"))}


@functools.lru_cache(maxsize=None)
def mistakes(path: Path = MISTAKES, solutions: Path = SOLUTIONS) -> dict[str, tuple[str, str, str]]:
    """The bugs of ``path`` whose text occurs exactly once in the reference: id -> (module, old, new)."""
    modules = reference(solutions)
    bugs = {}
    for bug, entry in yaml.safe_load(path.read_text()).items():
        module, old, new = entry.get("module"), entry.get("replace"), entry.get("with")
        if module in modules and old and new is not None and modules[module].count(old) == 1:
            bugs[bug] = (module, old, new)
    return bugs


def with_bug(bug: str, solutions: Path = SOLUTIONS) -> tuple[str, str]:
    """(module, source) of the reference module that ``bug`` changes, with the bug in it."""
    module, old, new = mistakes(solutions=solutions)[bug]
    return module, reference(solutions)[module].replace(old, new, 1)


# --- writing a tree ---------------------------------------------------------------------------------------------

_BaseUnparser, _Precedence = getattr(ast, "_Unparser", None), getattr(ast, "_Precedence", None)
if _BaseUnparser is not None and _Precedence is not None and hasattr(_BaseUnparser, "set_precedence"):
    class _Unparser(_BaseUnparser):  # type: ignore[misc,valid-type]
        """ast.unparse as people write: ``return a, b`` and ``a, b = c, d`` without parentheses, one pair in
        ``sum(x for x in y)`` (ast.unparse of Python 3.11 adds them; the tree is the same)."""

        def visit_Return(self, node: ast.Return) -> None:
            if isinstance(node.value, ast.Tuple) and node.value.elts:
                self.set_precedence(_Precedence.TUPLE, node.value)
            super().visit_Return(node)

        def visit_Assign(self, node: ast.Assign) -> None:
            if isinstance(node.value, ast.Tuple) and node.value.elts:
                self.set_precedence(_Precedence.TUPLE, node.value)
            super().visit_Assign(node)

        def visit_Call(self, node: ast.Call) -> None:
            if len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.GeneratorExp):
                self.set_precedence(_Precedence.ATOM, node.func)
                self.traverse(node.func)
                self.traverse(node.args[0])
            else:
                super().visit_Call(node)

    def _unparse(node: ast.AST) -> str:
        return _Unparser().visit(node)
else:  # another Python's private unparser: its own parentheses
    _unparse = ast.unparse


# --- the parsed module, once per source ---------------------------------------------------------------------------

class _Scope:
    """A function's names: what may be renamed, what is surely a number or an array, how often each occurs."""

    def __init__(self, fn: ast.FunctionDef, module_globals: set[str]) -> None:
        self.fn = fn
        self.renamable = tuple(_renamable(fn, module_globals))  # its parameters and locals, in a fixed order
        self.params = frozenset(_params(fn))

    @functools.cached_property
    def numbers(self) -> frozenset[str]:
        return frozenset(_numbers(self.fn))

    @functools.cached_property
    def counts(self) -> Counter[str]:
        return Counter(n.id for n in ast.walk(self.fn) if isinstance(n, ast.Name))


class _Prepared:
    """A module parsed once: its tree (each docstring a placeholder statement; shared by every student, never
    changed), and what styling it needs, computed on first use."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tree = tree = ast.parse(source)
        lines = [line.encode() for line in source.splitlines(keepends=True)]  # offsets count UTF-8 bytes
        literals, docs = [], []
        for node in [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]:
            doc = _docstring(node.body)
            if doc is not None:
                literals.append(_segment(lines, doc) or repr(doc.value))
                docs.append(doc.value)
                node.body[0] = _placeholder(len(literals) - 1)
        self.literals: tuple[str, ...] = tuple(literals)  # each docstring as written, by placeholder number
        self.docs: tuple[str, ...] = tuple(docs)  # the docstrings' values
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
        self.names = frozenset(names)  # every name of the module: a new name is none of these
        module_globals = _module_globals(tree)
        self.functions = [fn for fn in tree.body if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))]
        # by statement of the module: a function's scope
        self.scopes = tuple(_Scope(fn, module_globals) if fn in self.functions else None for fn in tree.body)

    @functools.cached_property
    def quotes(self) -> str:
        """The quote the source's strings (not docstrings) mostly use."""
        strings = [t.string for t in _tokens(self.source)
                   if t.type == tokenize.STRING and not t.string.endswith(('"""', "'''"))]
        double = sum(s.lstrip("rbfuRBFU").startswith('"') for s in strings)
        return '"' if double * 2 >= len(strings) else "'"

    @functools.cached_property
    def templates(self) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
        """By id: each simple statement and each call, index or attribute of a function as ast.unparse writes
        it, with a gap for each name: (texts, names), the text is texts[0] + names[0] + texts[1] + ..."""
        return {id(node): _template(node) for fn in self.functions for node in ast.walk(fn)
                if isinstance(node, (*_SIMPLE, *_PRIMARY)) and _placeholder_number(node) is None}

    @functools.cached_property
    def active(self) -> frozenset[int]:
        """The ids of the nodes that are, or hold, a node _Styler may rewrite."""
        active: set[int] = set()
        for fn in self.functions:
            _mark_active(fn, active)
        return frozenset(active)

    @functools.cached_property
    def holds(self) -> dict[int, frozenset[str]]:
        """By id: the names a node of a function holds."""
        holds: dict[int, frozenset[str]] = {}
        for fn in self.functions:
            _mark_names(fn, holds)
        return holds

    def warm(self) -> _Prepared:
        """Everything styling needs, computed now (before worker processes share it)."""
        for scope in self.scopes:
            if scope is not None:
                _ = scope.numbers, scope.counts
        _ = self.templates, self.active, self.holds
        return self


def _placeholder(number: int) -> ast.Expr:
    return ast.Expr(ast.Name(f"__gl{number}__", ast.Load()))


def _placeholder_number(statement: ast.stmt) -> int | None:
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Name):
        found = _PLACE.fullmatch(statement.value.id)
        if found:
            return int(found[1])
    return None


def _docstring(body: list[ast.stmt]) -> ast.Constant | None:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[0].value
    return None


@functools.lru_cache(maxsize=256)
def _prepare(source: str) -> _Prepared:
    return _Prepared(source)


_GAP = re.compile(r"__gn(\d+)__")


def _template(statement: ast.stmt) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``statement`` as ast.unparse writes it, split at its names: (texts, names)."""
    names: list[str] = []

    def gap(node: ast.Name) -> ast.Name:
        names.append(node.id)
        return ast.Name(f"__gn{len(names) - 1}__", node.ctx)

    marked = _clone(statement)
    for node in ast.walk(marked):
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.Name):
                setattr(node, name, gap(value))
            elif isinstance(value, list):
                value[:] = [gap(v) if isinstance(v, ast.Name) else v for v in value]
    parts = _GAP.split(_unparse(marked))
    return tuple(parts[0::2]), tuple(names[int(n)] for n in parts[1::2])


def _fill(template: tuple[tuple[str, ...], tuple[str, ...]], renames: dict[str, str]) -> str:
    texts, names = template
    out = [texts[0]]
    for name, text in zip(names, texts[1:]):
        out.append(renames.get(name, name))
        out.append(text)
    return "".join(out)


_SITES = (ast.BinOp, ast.Call, ast.Attribute, ast.Subscript, ast.Compare, ast.For)


def _mark_names(node: ast.AST, holds: dict[int, frozenset[str]]) -> frozenset[str]:
    """Record in ``holds`` the names each node under ``node`` holds (names and parameters)."""
    if isinstance(node, ast.Name):
        return frozenset((node.id,))
    if isinstance(node, ast.arg):
        return frozenset((node.arg,))
    found = frozenset().union(*(_mark_names(child, holds) for child in ast.iter_child_nodes(node)))
    holds[id(node)] = found
    return found


def _mark_active(node: ast.AST, active: set[int]) -> bool:
    """Add to ``active`` the ids of ``node`` and its descendants that are, or hold, a node of _SITES."""
    found = isinstance(node, _SITES)
    for child in ast.iter_child_nodes(node):
        found = _mark_active(child, active) or found
    if found:
        active.add(id(node))
    return found


def _segment(lines: list[bytes], node: ast.expr) -> str:
    """The source text of ``node`` (what ast.get_source_segment gives, without splitting the source again)."""
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        return lines[first][node.col_offset:node.end_col_offset].decode()
    return b"".join([lines[first][node.col_offset:], *lines[first + 1:last],
                     lines[last][:node.end_col_offset]]).decode()


def _tokens(source: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(source).readline))


# --- scopes: what may be renamed, what is surely a number or an array ----------------------------------------------

def _params(fn: ast.FunctionDef) -> list[str]:
    a = fn.args
    return [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, *(v for v in (a.vararg, a.kwarg) if v))]


def _module_globals(tree: ast.Module) -> set[str]:
    out = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            out.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return out


def _renamable(fn: ast.FunctionDef, module_globals: set[str]) -> list[str]:
    """The function's own names (parameters and locals), in a fixed order; none when its scopes are not simple."""
    bound, excluded = set(_params(fn)), set()
    for node in ast.walk(fn):
        if node is not fn and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
                                                ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom)):
            return []
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            excluded.add(node.name)
    return sorted(bound - excluded - module_globals - {"_", "self", "cls"})


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) or isinstance(node, ast.JoinedStr)


def _containers(fn: ast.FunctionDef) -> set[str]:
    """Names the function uses as dicts, sequences or strings (indexed by a string, iterated, compared to a
    string, concatenated to one)."""
    out = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and _is_str(node.slice):
            out.add(node.value.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.attr in ("items", "keys", "values", "get", "append", "extend", "pop", "update"):
            out.add(node.value.id)
        elif isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.iter, ast.Name):
            out.add(node.iter.id)
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_str(o) for o in operands) or any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
                out.update(o.id for o in operands if isinstance(o, ast.Name))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)) \
                and (_is_str(node.left) or _is_str(node.right)):
            out.update(o.id for o in (node.left, node.right) if isinstance(o, ast.Name))
    return out


def _np_call(node: ast.AST, np_name: str = "np") -> str | None:
    """``f`` when node is a call of np.f or np.linalg.f."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        base = node.func.value
        while isinstance(base, ast.Attribute) and base.attr == "linalg":
            base = base.value
        if isinstance(base, ast.Name) and base.id == np_name:
            return node.func.attr
    return None


def _numeric(node: ast.AST, numbers: set[str]) -> bool:
    """Whether ``node`` is surely a number or an array (so + on it adds, never concatenates)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float, complex)) and not isinstance(node.value, bool)
    if isinstance(node, ast.Name):
        return node.id in numbers
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, (ast.Sub, ast.Div, ast.FloorDiv, ast.MatMult, ast.Pow)):
            return True
        return isinstance(node.op, (ast.Add, ast.Mult)) and (_numeric(node.left, numbers)
                                                             or _numeric(node.right, numbers))
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (ast.USub, ast.UAdd))
    if isinstance(node, ast.Call):
        fn = _np_call(node)
        if fn is not None:
            return fn in _NP_ARRAYS and not (fn == "where" and len(node.args) != 3)
        if isinstance(node.func, ast.Name):
            return node.func.id in ("float", "int", "abs")
        return isinstance(node.func, ast.Attribute) and node.func.attr in _METHODS \
            and _numeric(node.func.value, numbers)
    if isinstance(node, ast.Subscript):
        value = node.value
        return _numeric(value, numbers) or isinstance(value, ast.Attribute) and value.attr == "shape"
    if isinstance(node, ast.Attribute):
        return node.attr == "T"
    if isinstance(node, ast.IfExp):
        return _numeric(node.body, numbers) and _numeric(node.orelse, numbers)
    return False


_LEAVES = (ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop)
_SHARED = (*_LEAVES, ast.Constant)
_PRIMARY = (ast.Call, ast.Subscript, ast.Attribute)  # never in parentheses, wherever they stand
_SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr, ast.Pass, ast.Break, ast.Continue,
           ast.Raise, ast.Assert, ast.Delete)
_SURE, _UNSURE = ast.Constant(1.0), ast.Constant(None)


def _is_range(node: ast.AST) -> bool:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "reversed" and node.args:
        node = node.args[0]
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"


def _numbers(fn: ast.FunctionDef) -> set[str]:
    """The function's names that are numbers or arrays at every binding (the greatest such set)."""
    containers = _containers(fn)
    bindings: dict[str, list[ast.AST]] = {p: [_UNSURE if p in containers else _SURE] for p in _params(fn)}

    def bind(target: ast.AST, value: ast.AST) -> None:
        if isinstance(target, ast.Name):
            bindings.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts):
                    bind(t, v)
            else:
                shape = isinstance(value, ast.Attribute) and value.attr == "shape"
                for t in target.elts:
                    bind(t, _SURE if shape else _UNSURE)

    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bind(target, node.value)
        elif isinstance(node, ast.AugAssign):
            bind(node.target, ast.BinOp(node.target, node.op, node.value))
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            bind(node.target, node.value)
        elif isinstance(node, (ast.For, ast.comprehension)):
            bind(node.target, _SURE if _is_range(node.iter) else _UNSURE)
        elif isinstance(node, (ast.With, ast.NamedExpr)):
            for target in ([i.optional_vars for i in node.items] if isinstance(node, ast.With) else [node.target]):
                if target is not None:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            bind(name, _UNSURE)
    numbers = set(bindings)
    changed = True
    while changed:
        changed = False
        for name in sorted(numbers):
            if not all(v is _SURE or v is not _UNSURE and _numeric(v, numbers) for v in bindings[name]):
                numbers.discard(name)
                changed = True
    return numbers


# --- renaming -----------------------------------------------------------------------------------------------------

def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest) if rest and head else name


@functools.lru_cache(maxsize=None)
def _variants(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Other names for ``name``: (synonyms, generic variants), each a valid identifier."""
    bare = name.strip("_")
    generic = [bare.replace("_", ""), name + "_", "my_" + bare, bare + "_val", bare + "2"]
    if "_" in bare:
        parts = bare.split("_")
        generic += [_camel(bare), "".join(p[:1] for p in parts) + parts[-1][1:2], parts[0] + parts[-1][:1]]
        generic += [part for part in (parts[0], parts[-1]) if len(part) >= 3]
    if len(bare) == 1:
        generic += [bare * 2, bare + "_"]

    def valid(names: list[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for v in names if v and v != name and v.isidentifier() and v not in _NEVER
                                   and not v.startswith("__g")))

    return valid(SYNONYMS.get(name, [])), valid(generic)


def _renames(renamable: tuple[str, ...], rng: random.Random, share: float, avoid: frozenset[str],
             camel: bool) -> dict[str, str]:
    """New names for about ``share`` of a function's own names (each new name unique, clashing with none);
    mostly a synonym where there is one."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in renamable:
        if rng.random() >= share:
            continue
        synonyms, generic = _variants(name)
        for options in ((synonyms, generic) if synonyms and rng.random() < 0.8 else (generic, synonyms)):
            start = rng.randrange(len(options)) if options else 0
            for k in range(len(options)):
                new = options[(start + k) % len(options)]
                new = _camel(new) if camel else new
                if new not in avoid and new not in used and new not in _NEVER:
                    out[name] = new
                    used.add(new)
                    break
            if name in out:
                break
    return out


class _Renamer(ast.NodeTransformer):
    def __init__(self, renames: dict[str, str]) -> None:
        self.renames = renames

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.renames.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self.renames.get(node.arg, node.arg)
        return node


def _free_name(options: tuple[str, ...], taken: set[str], rng: random.Random, camel: bool = False) -> str:
    for name in rng.sample(options, len(options)):
        name = _camel(name) if camel else name
        if name not in taken and name not in _NEVER:
            taken.add(name)
            return name
    number = 2
    while f"{options[0]}{number}" in taken:
        number += 1
    taken.add(f"{options[0]}{number}")
    return f"{options[0]}{number}"


def _reorder(body: list[ast.stmt], rng: random.Random) -> list[ast.stmt]:
    """The module's statements with each run of function definitions shuffled (imports and any other statement
    stay where they are, so a function used at module level is still defined before)."""
    out: list[ast.stmt] = []
    run: list[ast.stmt] = []
    for statement in [*body, None]:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            run.append(statement)
            continue
        rng.shuffle(run)
        out += run
        run = []
        if statement is not None:
            out.append(statement)
    return out


# --- a student's style --------------------------------------------------------------------------------------------

class _Profile:
    """One student's habits: the forms they prefer and how often they rewrite."""

    def __init__(self, rng: random.Random) -> None:
        choice = rng.choice
        self.rename = choice([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
        self.camel = rng.random() < 0.15
        self.matmul = choice(["@", "@", "@", "np.dot", "np.dot", ".dot"])
        self.concat = choice(["keep", "keep", *_CONCAT_FORMS[1:]])
        self.swap = choice([0.0, 0.15, 0.3, 0.5])
        self.square = choice(["**", "**", "*", "np.square"])
        self.reduce_method = rng.random() < 0.3
        self.transpose = choice([".T", ".T", ".T", ".transpose()", "np.transpose"])
        self.ellipsis = rng.random() < 0.2
        self.reversed_range = rng.random() < 0.35
        self.flip = choice([0.0, 0.0, 0.4])
        self.strings = choice(["+", "+", "f", "format", "%"])
        self.int_one = rng.random() < 0.3
        self.float_dtype = rng.random() < 0.3
        self.return_temp = choice([0.0, 0.1, 0.3, 0.6])
        self.inline = choice([0.0, 0.3, 0.7])
        self.extract = choice([0.0, 0.1, 0.3])
        self.ifexp = choice([0.0, 0.5, 1.0])
        self.split_tuple = choice([0.0, 0.5, 1.0])
        self.comp_loop = choice([0.0, 0.3, 0.8])
        self.docs = choice(["keep", "keep", "keep", "drop", "rewrite", "mixed"])
        self.comments = choice([0.0, 0.05, 0.12, 0.25])
        self.blank = choice([0.0, 0.0, 0.05, 0.15])
        self.gap = choice([1, 2, 2])
        self.double_quotes = rng.random() < 0.7
        self.header = rng.random() < 0.2


def _np(attr: str) -> ast.Attribute:
    return ast.Attribute(ast.Name("np", ast.Load()), attr, ast.Load())


def _call(func: ast.expr, *args: ast.expr, keywords: list[ast.keyword] | None = None) -> ast.Call:
    return ast.Call(func, list(args), keywords or [])


def _assign(target: ast.expr, value: ast.expr) -> ast.Assign:
    return ast.Assign([target], value, lineno=0)  # unparse reads lineno (for type comments)


def _int(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _int(node.operand) is not None:
        return -_int(node.operand)
    return None


def _simple(node: ast.AST) -> bool:
    """A name, or an attribute or index of names and constants: cheap and safe to write twice."""
    return all(isinstance(n, (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Slice, ast.Tuple, ast.Load,
                              ast.UnaryOp, ast.USub)) for n in ast.walk(node))


def _with(node: ast.AST, **changes: object) -> ast.AST:
    """A shallow copy of ``node`` with ``changes`` (a prepared tree is shared by every student: never changed)."""
    new = node.__class__.__new__(node.__class__)
    new.__dict__.update(node.__dict__)
    new.__dict__.update(changes)
    return new


def _clone(node: ast.AST) -> ast.AST:
    """A deep copy of ``node`` sharing its leaves (contexts, operators, constants), which nothing changes."""
    new = node.__class__.__new__(node.__class__)
    fields = node.__dict__.copy()
    for name in node._fields:
        value = fields.get(name)
        if value.__class__ is list:
            fields[name] = [_clone(v) if isinstance(v, ast.AST) and not isinstance(v, _SHARED) else v for v in value]
        elif isinstance(value, ast.AST) and not isinstance(value, _SHARED):
            fields[name] = _clone(value)
    new.__dict__.update(fields)
    return new


def _same(a: list[ast.stmt], b: list[ast.stmt]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


_FLIPPED = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE, ast.Eq: ast.Eq, ast.NotEq: ast.NotEq}


class _Styler(ast.NodeTransformer):
    """Rewrites one module's functions in a student's style; every rewrite keeps the values bit for bit.

    It walks the prepared (shared) tree children first and never changes a node of it: a node with a changed
    child is copied, and each visit_* returns a new node for a rewritten one. A statement left as it was is
    written as its prepared text (a placeholder), which spares ast.unparse most of the work."""

    def __init__(self, rng: random.Random, prepared: _Prepared, table: list[str]) -> None:
        self.rng = rng
        self.p = _Profile(rng)
        self.prepared = prepared
        self.table = table
        self.has_np = "np" in prepared.names
        self.numbers: set[str] = set()
        self.renames: dict[str, str] = {}
        self.taken: set[str] = set()
        self.params: set[str] = set()
        self.counts: Counter[str] = Counter()
        self.handlers = {ast.BinOp: self.visit_BinOp, ast.Call: self.visit_Call, ast.Attribute: self.visit_Attribute,
                         ast.Subscript: self.visit_Subscript, ast.Compare: self.visit_Compare, ast.For: self.visit_For}
        self.active = prepared.active

    def visit(self, node: ast.AST) -> ast.AST:
        if id(node) not in self.active:  # nothing to rewrite in there (and names are renamed at the end)
            return node
        active = self.active
        changes: dict[str, object] = {}
        for name in node._fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                items = None
                for i, item in enumerate(value):
                    if id(item) in active:
                        new = self.visit(item)
                        if new is not item:
                            items = items or value[:]
                            items[i] = new
                if items is not None:
                    changes[name] = items
            elif id(value) in active:
                new = self.visit(value)
                if new is not value:
                    changes[name] = new
        if changes:
            node = _with(node, **changes)
        handler = self.handlers.get(node.__class__)
        return node if handler is None else handler(node)

    # helpers
    def _pick(self, preferred: str, options: tuple[str, ...] | list[str]) -> str:
        return preferred if self.rng.random() < 0.85 else self.rng.choice(options)

    def _note(self, text: str) -> ast.Expr:
        self.table.append(text)
        return _placeholder(len(self.table) - 1)

    def _comment(self, statement: ast.stmt) -> ast.Expr:
        pool = _RETURN_COMMENTS if isinstance(statement, ast.Return) else \
            _LOOP_COMMENTS if isinstance(statement, (ast.For, ast.While)) else _COMMENTS
        text = self.rng.choice(pool + _COMMENTS[:4] if pool is not _COMMENTS else pool)
        return self._note(text[:2] + text[2:3].upper() + text[3:] if self.rng.random() < 0.2 else text)

    # the module
    def module(self, tree: ast.Module) -> ast.Module:
        body = [self.function(fn, scope) if scope is not None else fn
                for fn, scope in zip(tree.body, self.prepared.scopes)]
        body = _reorder(body, self.rng)
        doc = _placeholder_number(body[0]) if body else None
        if doc is not None:
            kind = self.p.docs if self.p.docs != "mixed" else self.rng.choice(["keep", "drop", "rewrite"])
            if kind == "drop":
                body = body[1:]
            elif kind == "rewrite":
                first = self.prepared.docs[doc].strip().splitlines()[0] if self.prepared.docs[doc].strip() else ""
                text = self.rng.choice(_MODULE_DOCS).format(first=first or "Assignment.", n=self.rng.randint(1, 4))
                body[0] = self._note(_literal(text))
        if self.p.header:
            body.insert(0, self._note(self.rng.choice(_HEADERS)))
        return ast.Module(body, [])

    def function(self, fn: ast.FunctionDef, scope: _Scope) -> ast.FunctionDef:
        """The function rewritten: its expressions, then its statements, then its names (the rewrites read the
        original names; a statement left as it was is written as its template, its names filled in)."""
        self.renames = _renames(scope.renamable, self.rng, self.p.rename, self.prepared.names, self.p.camel)
        self.numbers, self.params, self.counts = scope.numbers, scope.params, scope.counts.copy()
        self.taken = set(self.prepared.names) | set(self.renames.values())
        args = self._renamed(fn.args)
        body = self.body([self.visit(statement) for statement in fn.body], top=True)
        doc = _placeholder_number(body[0])
        if doc is not None and doc < len(self.prepared.docs):
            kind = self.p.docs if self.p.docs != "mixed" else self.rng.choice(["keep", "drop", "rewrite"])
            if kind == "drop" and len(body) > 1:
                del body[0]
            elif kind == "rewrite":
                body[0] = self._note(_literal(_doc_text(fn.name, self.prepared.docs[doc], self.rng)))
        return _with(fn, args=args, body=body)

    # expressions (their children already visited)
    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        rng, p = self.rng, self.p
        left, right = node.left, node.right
        if isinstance(node.op, ast.MatMult) and self.has_np:
            form = self._pick(p.matmul, ("@", "np.dot", ".dot"))
            if form == "np.dot":
                return _call(_np("dot"), left, right)
            if form == ".dot":
                return _call(ast.Attribute(left, "dot", ast.Load()), right)
            return node
        if isinstance(node.op, ast.Pow) and _int(right) == 2 and not isinstance(left, ast.Constant) \
                and _numeric(left, self.numbers):
            form = self._pick(p.square, ("**", "*", "np.square"))
            if form == "*" and _simple(left):
                self.counts.update(n.id for n in ast.walk(left) if isinstance(n, ast.Name))  # read twice now
                return ast.BinOp(left, ast.Mult(), left)
            if form in ("*", "np.square") and self.has_np:
                return _call(_np("square"), left)
            return node
        if isinstance(node.op, ast.Mult) and isinstance(left, ast.Name) and isinstance(right, ast.Name) \
                and left.id == right.id and left.id in self.numbers and p.square != "*":
            return ast.BinOp(left, ast.Pow(), ast.Constant(2)) if p.square == "**" or not self.has_np \
                else _call(_np("square"), left)
        if isinstance(node.op, ast.Add) and isinstance(left, ast.Constant) and isinstance(left.value, str) \
                and isinstance(right, ast.Name) and "{" not in left.value and "%" not in left.value:
            form = self._pick(p.strings, ("+", "f", "format", "%"))
            if form == "f":
                return ast.JoinedStr([ast.Constant(left.value), ast.FormattedValue(right, -1, None)])
            if form == "format":
                return _call(ast.Attribute(ast.Constant(left.value + "{}"), "format", ast.Load()), right)
            if form == "%":
                return ast.BinOp(ast.Constant(left.value + "%s"), ast.Mod(), right)
            return node
        if isinstance(node.op, ast.Sub) and isinstance(left, ast.Constant) and type(left.value) is float \
                and left.value == 1.0 and p.int_one and _numeric(right, self.numbers) and rng.random() < 0.9:
            return ast.BinOp(ast.Constant(1), node.op, right)
        if isinstance(node.op, (ast.Add, ast.Mult)) and rng.random() < p.swap:
            if isinstance(node.op, ast.Mult) and not (_is_str(left) or _is_str(right)) \
                    or _numeric(left, self.numbers) or _numeric(right, self.numbers):
                return ast.BinOp(right, node.op, left)
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        if not self.has_np:
            return node
        rng, p = self.rng, self.p
        fn = _np_call(node)
        if fn == "concatenate" and isinstance(node.func.value, ast.Name) and len(node.args) == 1 \
                and isinstance(node.args[0], (ast.List, ast.Tuple)) and len(node.args[0].elts) >= 2 \
                and all(k.arg == "axis" and _int(k.value) == 0 for k in node.keywords) and len(node.keywords) <= 1:
            elts = node.args[0].elts
            form = self._pick(p.concat, _CONCAT_FORMS)
            listed, tupled = ast.List(elts, ast.Load()), ast.Tuple(elts, ast.Load())
            axis = [ast.keyword("axis", ast.Constant(0))]
            return {"keep": node, "vstack_list": _call(_np("vstack"), listed),
                    "vstack_tuple": _call(_np("vstack"), tupled), "concat_tuple": _call(_np("concatenate"), tupled),
                    "concat_list": _call(_np("concatenate"), listed),
                    "concat_tuple_axis": _call(_np("concatenate"), tupled, keywords=axis)}[form]
        if fn in ("sum", "max", "mean", "min") and isinstance(node.func.value, ast.Name) and len(node.args) == 1 \
                and _numeric(node.args[0], self.numbers) and not isinstance(node.args[0], ast.Constant) \
                and p.reduce_method and rng.random() < 0.85:
            return _call(ast.Attribute(node.args[0], fn, ast.Load()), keywords=node.keywords)
        if fn == "max" and not p.reduce_method and rng.random() < 0.2:
            return _with(node, func=_np("amax"))
        if fn == "zeros_like" and p.float_dtype:
            keywords = [ast.keyword("dtype", ast.Name("float", ast.Load()))
                        if k.arg == "dtype" and isinstance(k.value, ast.Attribute) and k.value.attr == "float64"
                        and isinstance(k.value.value, ast.Name) and k.value.value.id == "np" else k
                        for k in node.keywords]
            return _with(node, keywords=keywords)
        if fn == "zeros" and node.args and isinstance(node.args[0], ast.Tuple) and rng.random() < 0.3:
            return _with(node, args=[ast.List(node.args[0].elts, ast.Load()), *node.args[1:]])
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("sum", "max", "mean", "min") \
                and not node.args and _numeric(node.func.value, self.numbers) and fn is None \
                and not p.reduce_method and rng.random() < 0.85:
            return _call(_np(node.func.attr), node.func.value, keywords=node.keywords)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        if node.attr == "T" and isinstance(node.ctx, ast.Load) and self.has_np:
            form = self._pick(self.p.transpose, (".T", ".transpose()", "np.transpose"))
            if form == ".transpose()":
                return _call(ast.Attribute(node.value, "transpose", ast.Load()))
            if form == "np.transpose":
                return _call(_np("transpose"), node.value)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.Subscript:
        index = node.slice
        if self.p.ellipsis and isinstance(index, ast.Tuple) and len(index.elts) == 3 \
                and all(isinstance(e, ast.Slice) and e.lower is None and e.upper is None and e.step is None
                        for e in index.elts[:2]) and not isinstance(index.elts[2], ast.Slice) \
                and self.rng.random() < 0.9:
            return ast.Subscript(node.value, ast.Tuple([ast.Constant(...), index.elts[2]], ast.Load()), node.ctx)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.Compare:
        if len(node.ops) == 1 and type(node.ops[0]) in _FLIPPED and self.rng.random() < self.p.flip:
            return ast.Compare(node.comparators[0], [_FLIPPED[type(node.ops[0])]()], [node.left])
        return node

    def visit_For(self, node: ast.For) -> ast.For:
        it = node.iter
        if self.p.reversed_range and isinstance(it, ast.Call) and isinstance(it.func, ast.Name) \
                and it.func.id == "range" and len(it.args) == 3 and not it.keywords \
                and _int(it.args[1]) == -1 and _int(it.args[2]) == -1 and isinstance(it.args[0], ast.BinOp) \
                and isinstance(it.args[0].op, ast.Sub) and _int(it.args[0].right) == 1 \
                and "reversed" not in self.prepared.names and self.rng.random() < 0.9:
            return _with(node, iter=_call(ast.Name("reversed", ast.Load()),
                                          _call(ast.Name("range", ast.Load()), it.args[0].left)))
        return node

    # statements (their expressions already visited)
    def body(self, statements: list[ast.stmt], top: bool = False) -> list[ast.stmt]:
        inner_done: list[ast.stmt] = []
        for statement in statements:
            changes = {}
            for name in ("body", "orelse", "finalbody"):
                inner = getattr(statement, name, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    new = self.body(inner)
                    if not _same(new, inner):
                        changes[name] = new
            inner_done.append(_with(statement, **changes) if changes else statement)
        out: list[ast.stmt] = []
        for statement in self._inline(inner_done):
            out += self._rewrite(statement)
        p, rng = self.p, self.rng
        done = {id(statement) for statement in inner_done}  # their bodies are finished
        final: list[ast.stmt] = []
        for n, statement in enumerate(out):
            is_doc = top and n == 0 and _placeholder_number(statement) is not None
            if not is_doc and final and rng.random() < p.blank:
                final.append(self._note(""))
            if not is_doc and rng.random() < p.comments:
                final.append(self._comment(statement))
            final.append(self._finish(statement, deep=id(statement) not in done))
        return final

    def _finish(self, statement: ast.stmt, deep: bool) -> ast.stmt:
        """The statement with its names renamed: as its template if it is one of the prepared tree's."""
        template = self.prepared.templates.get(id(statement))
        if template is not None:
            return self._note(_CODE + _fill(template, self.renames))
        if _placeholder_number(statement) is not None:
            return statement
        changes = {}
        for name in statement._fields:
            value = getattr(statement, name)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                if deep:
                    changes[name] = [self._finish(s, True) for s in value]
            elif isinstance(value, (ast.AST, list)):
                new = self._renamed(value)
                if new is not value:
                    changes[name] = new
        return _with(statement, **changes) if changes else statement

    def _renamed(self, node: ast.AST | list) -> ast.AST | list:
        """``node`` (or a list of nodes) with names renamed; the same object when none is. A call, index or
        attribute of the prepared tree becomes a placeholder for its template, names filled in (such a primary
        needs no parentheses anywhere, as a name)."""
        cls = node.__class__
        if cls is ast.Name:
            new = self.renames.get(node.id)
            return node if new is None else ast.Name(new, node.ctx)
        if cls is list:
            items = [self._renamed(item) if isinstance(item, ast.AST) else item for item in node]
            return node if all(a is b for a, b in zip(items, node)) else items
        if cls is ast.arg:
            new = self.renames.get(node.arg)
            return node if new is None else _with(node, arg=new)
        if cls in _PRIMARY:
            template = self.prepared.templates.get(id(node))
            if template is not None:
                self.table.append(_CODE + _fill(template, self.renames))
                return ast.Name(f"__gl{len(self.table) - 1}__", ast.Load())
        if isinstance(node, _SHARED):
            return node
        held = self.prepared.holds.get(id(node))
        if held is not None and held.isdisjoint(self.renames):
            return node
        changes = {}
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, (ast.AST, list)):
                new = self._renamed(value)
                if new is not value:
                    changes[name] = new
        return _with(node, **changes) if changes else node

    def _inline(self, statements: list[ast.stmt]) -> list[ast.stmt]:
        """A temporary read once, by the next statement, written into it instead."""
        if not self.p.inline:
            return statements
        out: list[ast.stmt] = []
        statements = statements[:]
        for n, statement in enumerate(statements):
            nxt = statements[n + 1] if n + 1 < len(statements) else None
            if nxt is not None and isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                    and isinstance(statement.targets[0], ast.Name) and self.rng.random() < self.p.inline:
                name = statement.targets[0].id
                if name not in self.params and self.counts[name] == 2:
                    path = _single_use(nxt, name)
                    if path is not None:
                        statements[n + 1] = _replaced(nxt, path, statement.value)
                        self.counts[name] = 0
                        continue
            out.append(statement)
        return out

    def _rewrite(self, statement: ast.stmt) -> list[ast.stmt]:
        rng, p = self.rng, self.p
        value = getattr(statement, "value", None)
        if isinstance(statement, (ast.Assign, ast.Return)) and isinstance(value, ast.IfExp) \
                and (isinstance(statement, ast.Return) or len(statement.targets) == 1) and rng.random() < p.ifexp:
            def branch(v: ast.expr) -> list[ast.stmt]:
                return [ast.Return(v)] if isinstance(statement, ast.Return) else [_assign(statement.targets[0], v)]
            return [ast.If(value.test, branch(value.body), branch(value.orelse))]
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Tuple) and isinstance(value, ast.Tuple) \
                and len(value.elts) == len(statement.targets[0].elts) and rng.random() < p.split_tuple:
            targets = statement.targets[0].elts
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            read = {n.id for v in value.elts for n in ast.walk(v) if isinstance(n, ast.Name)}
            if len(names) == len(targets) == len(set(names)) and not read & set(names):
                return [_assign(t, v) for t, v in zip(targets, value.elts)]
        if isinstance(statement, (ast.Assign, ast.Return)) and isinstance(value, ast.DictComp) \
                and rng.random() < p.comp_loop:
            loop = self._comprehension_loop(statement, value)
            if loop is not None:
                return loop
        out: list[ast.stmt] = []
        if isinstance(statement, (ast.Assign, ast.Return, ast.Expr)) and value is not None \
                and rng.random() < p.extract:
            candidates: list[tuple[str, int | None]] = []
            if isinstance(value, ast.Call):
                candidates = [("args", i) for i, a in enumerate(value.args)
                              if isinstance(a, (ast.BinOp, ast.Call)) and not _has_comprehension(a)]
            elif isinstance(value, ast.BinOp):
                candidates = [(side, None) for side in ("left", "right")
                              if isinstance(getattr(value, side), (ast.BinOp, ast.Call))
                              and not _has_comprehension(getattr(value, side))]
            if candidates:
                attr, index = rng.choice(candidates)
                part = getattr(value, attr) if index is None else getattr(value, attr)[index]
                name = _free_name(_EXTRACTED, self.taken, rng, p.camel)
                out.append(_assign(ast.Name(name, ast.Store()), part))
                value = _replaced(value, [(attr, index)], ast.Name(name, ast.Load()))
                statement = _with(statement, value=value)
        if isinstance(statement, ast.Return) and value is not None \
                and not isinstance(value, (ast.Name, ast.Constant)) and rng.random() < p.return_temp:
            name = _free_name(_TEMPS, self.taken, rng, p.camel)
            return [*out, _assign(ast.Name(name, ast.Store()), value), ast.Return(ast.Name(name, ast.Load()))]
        return [*out, statement]

    def _comprehension_loop(self, statement: ast.Assign | ast.Return, comp: ast.DictComp) -> list[ast.stmt] | None:
        """``{k: v for ...}`` as a loop filling a dict (same keys, same order), when its names stay its own."""
        if len(comp.generators) != 1 or comp.generators[0].is_async or len(comp.generators[0].ifs) > 1:
            return None
        gen = comp.generators[0]
        own = [n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)]
        inside = Counter(n.id for n in ast.walk(comp) if isinstance(n, ast.Name))
        if any(self.counts[name] != inside[name] for name in own):
            return None
        if isinstance(statement, ast.Assign):
            if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name) \
                    or statement.targets[0].id in inside:
                return None
            result = statement.targets[0].id
        else:
            result = _free_name(_TEMPS, self.taken, self.rng, self.p.camel)
        fill: ast.stmt = _assign(ast.Subscript(ast.Name(result, ast.Load()), comp.key, ast.Store()), comp.value)
        if gen.ifs:
            fill = ast.If(gen.ifs[0], [fill], [])
        out: list[ast.stmt] = [_assign(ast.Name(result, ast.Store()), ast.Dict([], [])),
                               ast.For(gen.target, gen.iter, [fill], [], lineno=0)]
        if isinstance(statement, ast.Return):
            out.append(ast.Return(ast.Name(result, ast.Load())))
        return out


def _has_comprehension(node: ast.AST) -> bool:
    return any(isinstance(n, (*_COMPREHENSIONS, ast.IfExp, ast.BoolOp)) for n in ast.walk(node))


def _replaced(node: ast.AST, path: list[tuple[str, int | None]], new: ast.AST) -> ast.AST:
    """A copy of ``node`` with ``new`` at ``path`` (the nodes along it copied, the rest shared)."""
    if not path:
        return new
    (attr, index), rest = path[0], path[1:]
    value = getattr(node, attr)
    if index is None:
        return _with(node, **{attr: _replaced(value, rest, new)})
    items = value[:]
    items[index] = _replaced(items[index], rest, new)
    return _with(node, **{attr: items})


def _single_use(statement: ast.stmt, name: str) -> list[tuple[str, int | None]] | None:
    """The path to where ``statement`` reads ``name`` on a path always evaluated (not in a comprehension, lambda,
    branch of a conditional expression or later operand of and/or): (field, index in its list or None) steps."""
    if not isinstance(statement, (ast.Assign, ast.Return, ast.Expr)) or statement.value is None:
        return None
    stack: list[tuple[ast.AST, list[tuple[str, int | None]]]] = [(statement.value, [("value", None)])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            return path
        if isinstance(node, (*_COMPREHENSIONS, ast.Starred)):
            continue
        if isinstance(node, ast.BoolOp):
            stack.append((node.values[0], [*path, ("values", 0)]))
            continue
        for attr, child in ast.iter_fields(node):
            if isinstance(node, ast.IfExp) and attr != "test":
                continue
            if isinstance(child, ast.AST):
                stack.append((child, [*path, (attr, None)]))
            elif isinstance(child, list):
                stack += [(c, [*path, (attr, i)]) for i, c in enumerate(child) if isinstance(c, ast.AST)]
    return None


def _literal(text: str) -> str:
    if '"' in text or "\\" in text:
        return repr(text)
    return f'"""{text}"""'


def _doc_text(function: str, doc: str, rng: random.Random) -> str:
    words = function.replace("_", " ")
    first = doc.strip().splitlines()[0].strip() if doc.strip() else words.capitalize() + "."
    return rng.choice(_DOCS).format(words=words, first=first, lower=first.rstrip(".").lower())


def _render(tree: ast.Module, table: list[str], double_quotes: bool, gap: int) -> str:
    text = _unparse(tree)
    double = double_quotes and '"' not in text  # no string holds a quote: each is '...' with no ' inside

    def place(found: re.Match[str]) -> str:
        entry = table[int(found[1])]
        if entry[:1] != _CODE:
            return entry
        return entry[1:].replace("'", '"') if double and '"' not in entry else entry[1:]

    if double:
        text = text.replace("'", '"')
    text = _PLACE.sub(place, text)
    text = _BLANK.sub("", text)
    if gap == 2:
        text = re.sub(r"\n\n(?=(def|async def|class) )", "\n\n\n", text)
    return text + "\n"


def styled(source: str, rng: random.Random) -> str:
    """``source`` (a module) rewritten in a random student's style, its values bit for bit the reference's.

    Every eligible site picks among equivalent forms, with the student's own preferences: @ or np.dot or .dot;
    np.concatenate([a, b], axis=0) or np.vstack or without axis (the reference stacks 2-D arrays); operands of
    elementwise + and * swapped (+ only where an operand is surely a number or an array); x ** 2, x * x or
    np.square(x) on arrays; np.sum(x) or x.sum(); .T or .transpose(); x[:, :, t] or x[..., t] (3-D sequences);
    range(T - 1, -1, -1) or reversed(range(T)); a < b or b > a; "d" + key or f"d{key}"; 1.0 - x or 1 - x;
    return EXPR or a temporary; a single-use temporary inlined; a call's argument moved into a temporary;
    ``a if c else b`` or an if statement; ``a, b = x, y`` or two assignments; a dict comprehension or a loop;
    locals and parameters renamed (the grader calls positionally); functions reordered; docstrings kept,
    dropped or rewritten; comments and blank lines added. Comments of ``source`` are dropped.
    """
    prepared = _prepare(source)
    table = list(prepared.literals)
    styler = _Styler(rng, prepared, table)
    return _render(styler.module(prepared.tree), table, styler.p.double_quotes, styler.p.gap)


def rename_and_reorder(source: str, rng: random.Random) -> str:
    """A copy of ``source`` as a copier disguises it: locals and parameters renamed, top-level functions
    reordered, comments dropped or changed, blank lines changed; statements and docstrings as they were."""
    prepared = _prepare(source)
    tree = _clone(prepared.tree)
    table = list(prepared.literals)
    share, camel = rng.uniform(0.6, 1.0), rng.random() < 0.2
    comments, blank = rng.choice([0.0, 0.05, 0.15]), rng.choice([0.0, 0.05, 0.1])

    def note(text: str) -> ast.Expr:
        table.append(text)
        return _placeholder(len(table) - 1)

    def sprinkle(statements: list[ast.stmt], top: bool) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for n, statement in enumerate(statements):
            for name in ("body", "orelse", "finalbody"):
                inner = getattr(statement, name, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    setattr(statement, name, sprinkle(inner, False))
            if not (top and n == 0 and _placeholder_number(statement) is not None):
                if out and rng.random() < blank:
                    out.append(note(""))
                if rng.random() < comments:
                    out.append(note(rng.choice(_COMMENTS)))
            out.append(statement)
        return out

    for fn, scope in zip(tree.body, prepared.scopes):
        if scope is not None:
            _Renamer(_renames(scope.renamable, rng, share, prepared.names, camel)).visit(fn)
            fn.body = sprinkle(fn.body, True)
    tree.body = _reorder(tree.body, rng)
    return _render(tree, table, prepared.quotes == '"', rng.choice([1, 2]))


def recommented(source: str, rng: random.Random) -> str:
    """``source`` with only its comments changed: each one removed or reworded, a few added (at least one
    change); code, docstrings and layout otherwise as written."""
    lines = source.splitlines(keepends=True)
    edits: dict[int, str] = {}  # 0-based line -> new text
    inserts: dict[int, str] = {}
    starts: list[tuple[int, int]] = []
    fresh = True
    for token in _tokens(source):
        row, col = token.start[0] - 1, token.start[1]
        if token.type == tokenize.COMMENT:
            line = edits.get(row, lines[row])
            code = line[:col].rstrip()
            if rng.random() < 0.5:
                edits[row] = code + "\n" if code else ""
            else:
                edits[row] = (code + "  " if code else line[:col]) + rng.choice(_COMMENTS) + "\n"
        elif token.type in (tokenize.NEWLINE, tokenize.NL):
            fresh = token.type == tokenize.NEWLINE or fresh
        elif token.type in (tokenize.INDENT, tokenize.DEDENT):
            pass
        elif fresh and token.type not in (tokenize.ENDMARKER,):
            if col > 0:
                starts.append((row, col))
            fresh = False
    for row, col in starts:
        if rng.random() < 0.12:
            inserts[row] = " " * col + rng.choice(_COMMENTS) + "\n"
    if not edits and not inserts and starts:
        row, col = rng.choice(starts)
        inserts[row] = " " * col + rng.choice(_COMMENTS) + "\n"
    out = []
    for n, line in enumerate(lines):
        out.append(inserts.get(n, ""))
        out.append(edits.get(n, line))
    return "".join(out)


# --- the class ----------------------------------------------------------------------------------------------------

@dataclass
class Planted:
    """What make_class planted, by student folder name."""

    copies: list[tuple[str, str]] = field(default_factory=list)             # (original, its disguised copy)
    rare_mistake_pairs: list[tuple[str, str]] = field(default_factory=list)  # two students, one rare bug, no one else
    reference_copies: list[str] = field(default_factory=list)               # the reference, comments changed
    independent: list[str] = field(default_factory=list)  # own style, no bug, in no planted pair (no original)
    bugs: dict[str, str] = field(default_factory=dict)                      # student -> the bug they carry
    common_bugs: tuple[str, ...] = ()
    students: list[str] = field(default_factory=list)


def _independent(seed: int, student: str, bug: str | None, solutions: Path) -> dict[str, str]:
    """A student's own files: each module styled with its own random stream, ``bug`` (if any) made first."""
    files = dict(reference(solutions))
    if bug is not None:
        module, text = with_bug(bug, solutions)
        files[module] = text
    return {module: styled(text, random.Random(f"{seed}/{student}/{module}")) for module, text in files.items()}


def _make_student(task: tuple[int, Path, str, str | None, str | None, str | None, Path]) -> None:
    """Write one student's files (and those of their copy, if they have one)."""
    seed, folder, student, kind, bug, copied, solutions = task
    if kind == "reference":
        files = {module: recommented(text, random.Random(f"{seed}/{student}/{module}"))
                 for module, text in reference(solutions).items()}
    else:
        files = _independent(seed, student, bug, solutions)
    _write(folder / student, files)
    if copied is not None:
        _write(folder / copied, {module: rename_and_reorder(text, random.Random(f"{seed}/{copied}/{module}"))
                                 for module, text in files.items()})


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def make_class(folder: Path, size: int, seed: int = 0, solutions: Path = SOLUTIONS, jobs: int | None = None) -> Planted:
    """Write ``size`` submissions, folder/student0000 ... (the six modules each), and say what was planted.

    Per hundred students one copied pair, per two hundred one pair sharing a rare bug (one bug per pair,
    no other student has it), per two hundred and fifty one copy of the reference (each at least one); the
    rest write their own, a quarter of them with one of 3-4 common bugs. Who is what is drawn from ``seed``;
    each student's files from ``seed`` and their name only, so ``jobs`` processes (default: one per CPU, up
    to 8, for a class of 100 or more) write the same class as one.
    """
    rng = random.Random(seed)
    bugs = mistakes(solutions=solutions)
    common = [b for b in COMMON if b in bugs]
    common += [b for b in sorted(bugs) if b not in common][:max(0, 3 - len(common))]
    rare = [b for b in sorted(bugs) if b not in common]
    rng.shuffle(rare)
    copies, pairs, references = max(1, size // 100), min(len(rare), max(1, size // 200)), max(1, size // 250)
    if 2 * copies + 2 * pairs + references > size:
        raise ValueError(f"a class of {size} is too small for what is planted (at least "
                         f"{2 * copies + 2 * pairs + references} students)")
    width = max(4, len(str(size - 1)))
    students = [f"student{n:0{width}d}" for n in range(size)]
    order = students[:]
    rng.shuffle(order)
    planted = Planted(common_bugs=tuple(common), students=students)
    planted.copies = [(order.pop(), order.pop()) for _ in range(copies)]
    planted.rare_mistake_pairs = [(order.pop(), order.pop()) for _ in range(pairs)]
    planted.reference_copies = [order.pop() for _ in range(references)]
    for (a, b), bug in zip(planted.rare_mistake_pairs, rare):
        planted.bugs[a] = planted.bugs[b] = bug
    originals = {original for original, _ in planted.copies}
    for student in sorted([*order, *originals]):
        if rng.random() < COMMON_SHARE:
            planted.bugs[student] = rng.choice(common)
    planted.independent = sorted(s for s in order if s not in planted.bugs)
    for original, copied in planted.copies:
        if original in planted.bugs:
            planted.bugs[copied] = planted.bugs[original]
    planted.bugs = dict(sorted(planted.bugs.items()))

    copy_of = dict(planted.copies)
    copied = set(copy_of.values())
    tasks = [(seed, folder, student, "reference" if student in planted.reference_copies else "own",
              planted.bugs.get(student), copy_of.get(student), solutions)
             for student in students if student not in copied]
    sources = [*reference(solutions).values(), *(with_bug(b, solutions)[1] for b in sorted(set(planted.bugs.values())))]
    for text in sources:
        _prepare(text).warm()  # parsed once, before any worker starts
    folder.mkdir(parents=True, exist_ok=True)
    jobs = jobs if jobs is not None else min(_cpus(), 8) if size >= 100 else 1
    if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            list(pool.map(_make_student, tasks, chunksize=max(1, len(tasks) // (4 * jobs))))
    else:
        for task in tasks:
            _make_student(task)
    return planted


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    for module, text in files.items():
        (folder / f"{module}.py").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder to write the class into")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=None, help="processes (default: one per CPU, up to 8)")
    options = parser.parse_args()
    start = time.perf_counter()
    planted = make_class(options.out, options.size, options.seed, jobs=options.jobs)
    seconds = time.perf_counter() - start
    print(f"{options.size} students in {options.out} ({seconds:.1f} s)")
    print(f"copies (original, copy): {planted.copies}")
    print(f"rare-mistake pairs: {[(a, b, planted.bugs[a]) for a, b in planted.rare_mistake_pairs]}")
    print(f"reference copies: {planted.reference_copies}")
    common = Counter(bug for bug in planted.bugs.values() if bug in planted.common_bugs)
    print(f"common bugs: {dict(sorted(common.items()))}")
    print(f"independent, no bug: {len(planted.independent)}")


if __name__ == "__main__":
    main()
