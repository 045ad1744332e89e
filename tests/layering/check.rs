//! The layering rules over a crate's `src/`: only the commands and the entry points reach
//! `cli::` and `commands::`, no two files import each other in a circle, and the guard's
//! classifier reaches nothing that spawns a process.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use crate::source::{self, Kind, Reference, Source};

/// The modules only `src/commands/` and the entry points may reach.
const COMMAND_LAYER: &[&str] = &["cli", "commands"];
/// The files that may reach the command layer besides `src/commands/`.
const ENTRY_POINTS: &[&str] = &["src/lib.rs", "src/main.rs"];
/// The guard's pure core.
const CLASSIFIER: &str = "src/guard/classifier.rs";
/// The only modules the classifier may import.
const PURE_MODULES: &[&[&str]] = &[&["report", "failure"], &["report", "exit_status"]];
/// The crates whose use means spawning processes or talking to the engine, as reported.
const PROCESS_CRATES: &[(&str, &str)] = &[
    ("duct", "duct::"),
    ("bollard", "bollard::"),
    ("tokio", "tokio::"),
];

/// One broken rule, printed as `file: message` (`file:line: message` when it has a line).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Violation {
    /// Relative to the crate's directory (`src/project/mod.rs`).
    pub(crate) file: String,
    pub(crate) line: Option<usize>,
    pub(crate) message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(formatter, "{}:{line}: {}", self.file, self.message),
            None => write!(formatter, "{}: {}", self.file, self.message),
        }
    }
}

/// What the check found.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) files: usize,
    /// Each set of files that import each other in a circle, sorted.
    pub(crate) cycles: Vec<Vec<String>>,
    pub(crate) violations: Vec<Violation>,
}

impl Report {
    /// One line: `layering: 66 files, no violations`.
    pub(crate) fn summary(&self) -> String {
        if self.violations.is_empty() {
            format!("layering: {} files, no violations", self.files)
        } else {
            format!(
                "layering: {} files, {} import cycle(s), {} violation(s)",
                self.files,
                self.cycles.len(),
                self.violations.len()
            )
        }
    }

    /// Each violation as `file: message`.
    pub(crate) fn lines(&self) -> Vec<String> {
        self.violations.iter().map(ToString::to_string).collect()
    }
}

/// One file of the tree.
struct File {
    /// Relative to the crate's directory, `/`-separated (`src/guard/step.rs`).
    path: String,
    /// Its module path from the crate root (`["guard", "step"]`).
    module: Vec<String>,
    /// `mod.rs` or `lib.rs`: a folder's module, which a path can pass through.
    folder: bool,
    source: Source,
}

/// Where a reference leads.
struct Resolved {
    /// The module path it names, from the crate root.
    absolute: Vec<String>,
    /// The file that holds it (the longest prefix of `absolute` that is a module file).
    target: usize,
    /// Whether the path goes past that file's module (names an item in it).
    names_item: bool,
}

/// Runs every rule over `crate_directory/src`.
pub(crate) fn check(crate_directory: &Path) -> io::Result<Report> {
    let tree = Tree::read(crate_directory)?;
    let imports = tree.imports();
    let mut violations = tree.command_layer_violations();
    let cycles = cycles(&tree, &imports);
    for cycle in &cycles {
        violations.push(cycle_violation(&tree, &imports, cycle));
    }
    violations.extend(tree.classifier_violations(&imports));
    violations.sort();
    violations.dedup();
    Ok(Report {
        files: tree.files.len(),
        cycles: cycles
            .iter()
            .map(|cycle| {
                let mut paths: Vec<String> = cycle
                    .iter()
                    .map(|&file| tree.files[file].path.clone())
                    .collect();
                paths.sort();
                paths
            })
            .collect(),
        violations,
    })
}

/// Every `.rs` file under `src/`, and which file holds each module path.
struct Tree {
    files: Vec<File>,
    modules: HashMap<Vec<String>, usize>,
}

/// For each file, the files it imports, each with the first reference that does.
type Imports = Vec<BTreeMap<usize, Import>>;

/// The first reference by which one file imports another.
struct Import {
    line: usize,
    /// The path as written (`crate::guard::step::run`).
    path: String,
}

impl Tree {
    fn read(crate_directory: &Path) -> io::Result<Tree> {
        let mut paths = Vec::new();
        collect_rust_files(&crate_directory.join("src"), &mut paths)?;
        paths.sort();
        let mut files = Vec::new();
        let mut modules = HashMap::new();
        for path in paths {
            let relative = path
                .strip_prefix(crate_directory)
                .expect("a file under the crate")
                .components()
                .map(|component| component.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>();
            let text = fs::read_to_string(&path)?;
            let (module, folder) = module_of(&relative[1..]);
            let display = relative.join("/");
            if display != "src/main.rs" {
                modules.insert(module.clone(), files.len());
            }
            let mut source = source::read(&text);
            if display == "src/main.rs" {
                // The binary is a crate of its own: its paths do not lead into the library's
                // modules, and nothing imports it.
                source.references.clear();
            }
            files.push(File {
                path: display,
                module,
                folder,
                source,
            });
        }
        Ok(Tree { files, modules })
    }

    /// The module each name in a file stands for: the child modules it declares (`mod up;`
    /// makes `up::run()` the same path as `self::up::run()`) and what its `use` items bind to
    /// a module (`use crate::guard::step;` makes `step::run()` resolve).
    fn bindings(&self, file: usize) -> HashMap<String, Vec<String>> {
        let mut bindings = HashMap::new();
        for child in &self.files[file].source.child_modules {
            let mut module = self.files[file].module.clone();
            module.push(child.clone());
            bindings.insert(child.clone(), module);
        }
        // A binding can build on another (`use crate::guard; use guard::step;`).
        loop {
            let before = bindings.len();
            for reference in &self.files[file].source.references {
                let Kind::Use {
                    binding: Some(name),
                } = &reference.kind
                else {
                    continue;
                };
                if bindings.contains_key(name) {
                    continue;
                }
                if let Some(resolved) = self.resolve(file, reference, &bindings)
                    && !resolved.names_item
                {
                    bindings.insert(name.clone(), resolved.absolute);
                }
            }
            if bindings.len() == before {
                return bindings;
            }
        }
    }

    /// Where `reference` in `file` leads, if it is a path into the crate.
    fn resolve(
        &self,
        file: usize,
        reference: &Reference,
        bindings: &HashMap<String, Vec<String>>,
    ) -> Option<Resolved> {
        let segments = &reference.segments;
        let mut absolute = match segments.first()?.as_str() {
            "crate" | "$crate" => Vec::new(),
            "self" | "super" => {
                let mut module = self.files[file].module.clone();
                module.extend(reference.inline_modules.iter().cloned());
                module
            }
            name => bindings.get(name)?.clone(),
        };
        let mut rest = &segments[1..];
        if segments[0] == "super" {
            absolute.pop()?;
        }
        while rest.first().is_some_and(|segment| segment == "super") {
            absolute.pop()?;
            rest = &rest[1..];
        }
        absolute.extend(rest.iter().cloned());
        let length = (0..=absolute.len())
            .rev()
            .find(|length| self.modules.contains_key(&absolute[..*length]))?;
        Some(Resolved {
            target: self.modules[&absolute[..length]],
            names_item: length < absolute.len(),
            absolute,
        })
    }

    /// Whether a reference that leads to `resolved` makes its file depend on the target: a
    /// path that only passes through a folder's module (`crate::guard` on the way to
    /// `crate::guard::step`) does not.
    fn imports_target(&self, reference: &Reference, resolved: &Resolved) -> bool {
        let target = &self.files[resolved.target];
        if resolved.names_item || !target.folder {
            return true;
        }
        reference.kind == Kind::Glob && target.source.has_items
    }

    /// Every file's imports (test items, comments and literals left out).
    fn imports(&self) -> Imports {
        (0..self.files.len())
            .map(|file| {
                let bindings = self.bindings(file);
                let mut imports = BTreeMap::new();
                for reference in &self.files[file].source.references {
                    if let Some(resolved) = self.resolve(file, reference, &bindings)
                        && resolved.target != file
                        && self.imports_target(reference, &resolved)
                    {
                        imports.entry(resolved.target).or_insert(Import {
                            line: reference.line,
                            path: reference.text(),
                        });
                    }
                }
                imports
            })
            .collect()
    }

    /// Rule 1: only `src/commands/` and the entry points reach `cli::` or `commands::`.
    fn command_layer_violations(&self) -> Vec<Violation> {
        let mut violations = Vec::new();
        for (index, file) in self.files.iter().enumerate() {
            if file.path.starts_with("src/commands/") || ENTRY_POINTS.contains(&file.path.as_str())
            {
                continue;
            }
            let bindings = self.bindings(index);
            for reference in &file.source.references {
                let Some(resolved) = self.resolve(index, reference, &bindings) else {
                    continue;
                };
                let Some(layer) = resolved.absolute.first() else {
                    continue;
                };
                // `cli.rs` naming its own items is no reach into the layer.
                if COMMAND_LAYER.contains(&layer.as_str()) && file.module.first() != Some(layer) {
                    violations.push(Violation {
                        file: file.path.clone(),
                        line: Some(reference.line),
                        message: format!(
                            "uses `{}`: only src/commands/ and the entry points (src/lib.rs, \
                             src/main.rs) may reach {layer}::",
                            reference.text()
                        ),
                    });
                }
            }
        }
        violations
    }

    /// Rule 3: the classifier imports only pure modules, and nothing it reaches spawns a
    /// process.
    fn classifier_violations(&self, imports: &Imports) -> Vec<Violation> {
        let Some(classifier) = self.files.iter().position(|file| file.path == CLASSIFIER) else {
            return Vec::new();
        };
        let mut violations = Vec::new();
        let allowed = PURE_MODULES
            .iter()
            .map(|module| module.join("::"))
            .collect::<Vec<_>>()
            .join(", ");
        for (&target, import) in &imports[classifier] {
            let target = &self.files[target];
            if !PURE_MODULES.iter().any(|module| *module == target.module) {
                violations.push(Violation {
                    file: CLASSIFIER.to_string(),
                    line: Some(import.line),
                    message: format!(
                        "imports `{}` ({}): the classifier may import only pure modules \
                         ({allowed})",
                        import.path, target.path
                    ),
                });
            }
        }
        // Everything the classifier reaches, with the file it was reached from.
        let mut reached_from: BTreeMap<usize, Option<usize>> = BTreeMap::new();
        reached_from.insert(classifier, None);
        let mut queue = VecDeque::from([classifier]);
        while let Some(file) = queue.pop_front() {
            for &target in imports[file].keys() {
                if let Entry::Vacant(entry) = reached_from.entry(target) {
                    entry.insert(Some(file));
                    queue.push_back(target);
                }
            }
        }
        for &file in reached_from.keys() {
            let uses = self.process_uses(file);
            if uses.is_empty() {
                continue;
            }
            let uses = uses
                .iter()
                .map(|(name, line)| format!("`{name}` line {line}"))
                .collect::<Vec<_>>()
                .join(", ");
            let message = if file == classifier {
                format!("can spawn a process ({uses})")
            } else {
                let mut chain = vec![file];
                while let Some(Some(from)) = reached_from.get(chain.last().unwrap()) {
                    chain.push(*from);
                }
                chain.reverse();
                let chain: Vec<&str> = chain
                    .iter()
                    .map(|&file| self.files[file].path.as_str())
                    .collect();
                format!(
                    "reaches {}, which can spawn a process ({uses}), through {}",
                    self.files[file].path,
                    chain.join(" -> ")
                )
            };
            violations.push(Violation {
                file: CLASSIFIER.to_string(),
                line: None,
                message,
            });
        }
        violations
    }

    /// Each way `file` can spawn a process (`std::process`, `duct::`, `bollard::`, `tokio::`,
    /// `Command::new`), with the first line that shows it, in the order of those lines.
    fn process_uses(&self, file: usize) -> Vec<(&'static str, usize)> {
        let mut found: BTreeMap<&'static str, usize> = BTreeMap::new();
        for reference in &self.files[file].source.references {
            let segments = &reference.segments;
            let mut names = Vec::new();
            if segments.starts_with(&["std".to_string(), "process".to_string()]) {
                names.push("std::process");
            }
            if let Some((_, name)) = PROCESS_CRATES
                .iter()
                .find(|(crate_name, _)| segments.first().is_some_and(|first| first == crate_name))
            {
                names.push(name);
            }
            if segments
                .windows(2)
                .any(|pair| pair[0] == "Command" && pair[1] == "new")
            {
                names.push("Command::new");
            }
            for name in names {
                found.entry(name).or_insert(reference.line);
            }
        }
        let mut found: Vec<(&'static str, usize)> = found.into_iter().collect();
        found.sort_by_key(|&(name, line)| (line, name));
        found
    }
}

fn collect_rust_files(directory: &Path, paths: &mut Vec<std::path::PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(directory)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rust_files(&path, paths)?;
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            paths.push(path);
        }
    }
    Ok(())
}

/// The module path of a file given its components under `src/`, and whether it is a folder's
/// module: `lib.rs` is the root, `a/mod.rs` and `a.rs` are `a`, `a/b.rs` is `a::b`.
fn module_of(components: &[String]) -> (Vec<String>, bool) {
    let mut module: Vec<String> = components.to_vec();
    let last = module.pop().unwrap_or_default();
    match last.as_str() {
        "lib.rs" | "main.rs" if module.is_empty() => (module, true),
        "mod.rs" => (module, true),
        name => {
            module.push(name.trim_end_matches(".rs").to_string());
            (module, false)
        }
    }
}

/// Rule 2: the strongly connected components of more than one file (Tarjan).
fn cycles(tree: &Tree, imports: &Imports) -> Vec<Vec<usize>> {
    struct Search<'a> {
        imports: &'a Imports,
        next: usize,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        stack: Vec<usize>,
        on_stack: Vec<bool>,
        components: Vec<Vec<usize>>,
    }
    impl Search<'_> {
        fn visit(&mut self, file: usize) {
            self.index[file] = Some(self.next);
            self.low[file] = self.next;
            self.next += 1;
            self.stack.push(file);
            self.on_stack[file] = true;
            for &target in self.imports[file].keys() {
                match self.index[target] {
                    None => {
                        self.visit(target);
                        self.low[file] = self.low[file].min(self.low[target]);
                    }
                    Some(index) if self.on_stack[target] => {
                        self.low[file] = self.low[file].min(index);
                    }
                    Some(_) => {}
                }
            }
            if Some(self.low[file]) == self.index[file] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack[member] = false;
                    component.push(member);
                    if member == file {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.components.push(component);
                }
            }
        }
    }
    let count = tree.files.len();
    let mut search = Search {
        imports,
        next: 0,
        index: vec![None; count],
        low: vec![0; count],
        stack: Vec::new(),
        on_stack: vec![false; count],
        components: Vec::new(),
    };
    for file in 0..count {
        if search.index[file].is_none() {
            search.visit(file);
        }
    }
    search.components.sort();
    search.components
}

/// A cycle's violation: its files, and the shortest circle through the first of them, each
/// step with the line that imports the next file.
fn cycle_violation(tree: &Tree, imports: &Imports, cycle: &[usize]) -> Violation {
    let members: BTreeSet<usize> = cycle.iter().copied().collect();
    let start = cycle[0];
    let mut previous: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    let mut closing = None;
    'search: while let Some(file) = queue.pop_front() {
        for &target in imports[file].keys() {
            if target == start {
                closing = Some(file);
                break 'search;
            }
            if members.contains(&target) && !previous.contains_key(&target) {
                previous.insert(target, file);
                queue.push_back(target);
            }
        }
    }
    let mut circle = Vec::new();
    let mut file = closing.expect("a strongly connected component leads back to its start");
    circle.push(file);
    while file != start {
        file = previous[&file];
        circle.push(file);
    }
    circle.reverse();
    let mut steps: Vec<String> = circle
        .windows(2)
        .map(|pair| {
            format!(
                "{}:{}",
                tree.files[pair[0]].path, imports[pair[0]][&pair[1]].line
            )
        })
        .collect();
    let last = *circle.last().unwrap();
    steps.push(format!(
        "{}:{}",
        tree.files[last].path, imports[last][&start].line
    ));
    steps.push(tree.files[start].path.clone());
    let files: Vec<&str> = cycle
        .iter()
        .map(|&file| tree.files[file].path.as_str())
        .collect();
    let mut message = format!(
        "import cycle of {} files: {}; e.g. {}",
        cycle.len(),
        files.join(", "),
        steps.join(" -> ")
    );
    // In a wide cycle the imports from one folder to another are the ones to look at.
    let mut on_circle: BTreeSet<(usize, usize)> =
        circle.windows(2).map(|pair| (pair[0], pair[1])).collect();
    on_circle.insert((last, start));
    let folder = |file: usize| tree.files[file].module.first();
    let mut across = Vec::new();
    for &file in cycle {
        for (&target, import) in &imports[file] {
            if members.contains(&target)
                && folder(target) != folder(file)
                && !on_circle.contains(&(file, target))
            {
                across.push(format!(
                    "{}:{} -> {}",
                    tree.files[file].path, import.line, tree.files[target].path
                ));
            }
        }
    }
    if !across.is_empty() {
        message.push_str(&format!("; across folders also: {}", across.join(", ")));
    }
    Violation {
        file: tree.files[start].path.clone(),
        line: None,
        message,
    }
}
