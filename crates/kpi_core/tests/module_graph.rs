//! The modules of kpi_core form no import cycle (issue 19): each module's non-test code is
//! read for `crate::<module>` paths, and the graph they make is checked to be acyclic, so
//! that a module can be read, and tested, from its dependencies up.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn modules() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let names: BTreeSet<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|n| n != "lib" && !n.ends_with("_tests"))
        .collect();
    let mut graph = BTreeMap::new();
    for name in &names {
        let text = std::fs::read_to_string(src.join(format!("{name}.rs"))).unwrap();
        // the module's own code: up to its test module (always last, at column 0), comments
        // (and doc links) left out
        let code: String = text
            .split("\n#[cfg(test)]")
            .next()
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut deps = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let mut paths = vec![];
            if let Some(list) = rest.strip_prefix('{') {
                // use crate::{a::X, b::Y}
                let list = &list[..list.find('}').unwrap_or(list.len())];
                paths.extend(list.split(',').map(|p| p.trim().to_string()));
            } else {
                paths.push(rest.to_string());
            }
            for p in paths {
                let module: String = p
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if names.contains(&module) && &module != name {
                    deps.insert(module);
                }
            }
        }
        graph.insert(name.clone(), deps);
    }
    graph
}

/// The first import cycle found, as `a -> b -> a`.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    // depth-first search; a module met again while on the path closes a cycle
    fn visit<'a>(
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        node: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<String> {
        if let Some(i) = path.iter().position(|n| *n == node) {
            return Some(format!("{} -> {node}", path[i..].join(" -> ")));
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for dep in &graph[node] {
            if let Some(cycle) = visit(graph, dep, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut Vec::new(), &mut done))
}

#[test]
fn kpi_core_has_no_import_cycle() {
    let graph = modules();
    assert!(graph.len() > 15, "{graph:?}");
    // the reader finds imports of each form: `use crate::a::X`, `use crate::{a::X, b::Y}`
    assert!(
        graph["percentiles"].contains("codec") && graph["percentiles"].contains("durations"),
        "{graph:?}"
    );
    assert!(
        graph["segment_rate"].contains("customer_rate")
            && graph["segment_rate"].contains("text_form")
    );
    assert_eq!(find_cycle(&graph), None);
    // and the search finds a cycle where there is one
    let mut cyclic = graph.clone();
    cyclic
        .get_mut("text_form")
        .unwrap()
        .insert("segment_rate".into());
    assert_eq!(
        find_cycle(&cyclic).as_deref(),
        Some("customer_rate -> text_form -> segment_rate -> customer_rate")
    );
}
