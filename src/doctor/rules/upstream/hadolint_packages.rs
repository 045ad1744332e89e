//! hadolint's cases for the package rules: pinned installs (DL3013 pip, DL3016 npm →
//! `unfrozen-install`) and package caches left in the image (DL3009 apt, DL3019 apk, DL3032
//! yum, DL3036 zypper, DL3040 dnf, DL3042 pip, DL3060 yarn → `package-cache-left`). One case
//! per `ruleCatches` / `ruleCatchesNot` of their specs (the ONBUILD variants aside), 201 in
//! all, in the specs' order.

use super::case::Case;
use super::case::Verdict::{self, Clean, Finds};
use crate::doctor::rule::LintRule;
use crate::doctor::rules::packages::{PACKAGE_CACHE_LEFT, UNFROZEN_INSTALL};

/// Why devctl flags `npm install` where hadolint (DL3016) accepts it.
const NPM_CI: &str = "devctl wants `npm ci` in a project, which installs exactly what package-lock.json holds; `npm install` of pinned names still resolves their dependencies afresh";

/// The cases of one code: what each mirrors, its Dockerfile and hadolint's verdict.
fn of(
    code: &'static str,
    rule: &'static LintRule,
    cases: &[(&'static str, &str, Verdict)],
) -> Vec<Case> {
    cases
        .iter()
        .map(|(mirrors, dockerfile, verdict)| {
            Case::hadolint(code, rule, mirrors, dockerfile, *verdict)
        })
        .collect()
}

pub(super) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(of(
        "DL3009",
        &PACKAGE_CACHE_LEFT,
        &[
            ("apt-get update and install, lists left", "FROM scratch\nRUN apt-get update && apt-get install python3\n", Finds),
            ("lists left in a builder stage the last stage is not built FROM", "FROM ubuntu:24.04 AS build\nRUN apt-get update && apt-get install python3\nFROM scratch\nRUN echo done\n", Clean),
            ("lists left in the last stage", "FROM ubuntu:24.04 AS build\nRUN make\nFROM scratch\nRUN apt-get update && apt-get install python3\n", Finds),
            ("lists left in a stage the last stage is built FROM", "FROM ubuntu:24.04 AS base\nRUN apt-get update && apt-get install python3\nFROM base\nRUN make\n", Finds),
            ("lists removed in a stage the last stage is built FROM", "FROM ubuntu:24.04 AS base\nRUN apt-get update && apt-get install python3 && rm -rf /var/lib/apt/lists/*\nFROM base\nRUN make\n", Clean),
            ("lists left in a stage no later stage uses", "FROM ubuntu:24.04 AS base\nRUN apt-get update && apt-get install python3\nFROM scratch\nRUN make\n", Clean),
            ("lists removed in the same RUN", "FROM scratch\nRUN apt-get update && apt-get install python3 && rm -rf /var/lib/apt/lists/*\n", Clean),
            ("a cache mount on the lists directory", "RUN --mount=type=cache,target=/var/lib/apt/lists \\\n    apt-get update && apt-get install python3\n", Clean),
            ("cache mounts on /var/lib/apt and /var/cache/apt, docker-clean removed in the RUN", "RUN --mount=type=cache,target=/var/lib/apt \\\n    --mount=type=cache,target=/var/cache/apt \\\n    rm -f /etc/apt/apt.conf.d/docker-clean && \\\n    apt-get update && apt-get install python3\n", Clean),
            ("cache mounts on both apt directories, docker-clean removed by an earlier RUN", "RUN rm -f /etc/apt/apt.conf.d/docker-clean\nRUN --mount=type=cache,target=/var/cache/apt \\\n    --mount=type=cache,target=/var/lib/apt \\\n    apt-get update && apt-get install curl\n", Clean),
            ("a cache mount on /var/cache/apt only: the lists stay", "RUN --mount=type=cache,target=/var/cache/apt \\\n    rm -f /etc/apt/apt.conf.d/docker-clean && \\\n    apt-get update && apt-get install python3\n", Finds),
            ("a cache mount on /var/lib/apt only, docker-clean removed: downloaded packages stay", "RUN rm -f /etc/apt/apt.conf.d/docker-clean\nRUN --mount=type=cache,target=/var/lib/apt \\\n    apt-get update && apt-get install python3\n", Finds),
            ("tmpfs mounts on both apt directories", "RUN \\\n  --mount=type=tmpfs,target=/var/cache/apt \\\n  --mount=type=tmpfs,target=/var/lib/apt \\\n  apt-get update\n", Clean),
            ("a tmpfs mount on the cache, a cache mount on the lists", "RUN \\\n  --mount=type=tmpfs,target=/var/cache/apt \\\n  --mount=type=cache,target=/var/lib/apt \\\n  apt-get update\n", Clean),
            ("a cache mount on the cache, a tmpfs mount on the lists", "RUN \\\n  --mount=type=cache,target=/var/cache/apt \\\n  --mount=type=tmpfs,target=/var/lib/apt \\\n  apt-get update\n", Clean),
            ("cache mounts on both apt directories", "RUN \\\n  --mount=type=cache,target=/var/cache/apt \\\n  --mount=type=cache,target=/var/lib/apt \\\n  apt-get update\n", Clean),
            ("`apt update && apt install`, lists left", "FROM scratch\nRUN apt update && apt install python3\n", Finds),
            ("`apt install` with the lists removed", "FROM scratch\nRUN apt update && apt install python3 && rm -rf /var/lib/apt/lists/*\n", Clean),
            ("`aptitude install`, lists left", "FROM scratch\nRUN aptitude update && aptitude install python3\n", Finds),
            ("`aptitude install` with the lists removed", "FROM scratch\nRUN aptitude update && aptitude install python3 && rm -rf /var/lib/apt/lists/*\n", Clean),
        ],
    ));
    cases.extend(of(
        "DL3013",
        &UNFROZEN_INSTALL,
        &[
            ("`pip2 install` of an unpinned package", "RUN pip2 install requests\n", Finds),
            ("`pip3 install` of an unpinned package", "RUN pip3 install requests\n", Finds),
            ("`pip3 install` pinned with ==", "RUN pip3 install requests==2.32.3\n", Clean),
            ("`pip3 install` of a local wheel", "RUN pip3 install app.whl\n", Clean),
            ("`pip3 install` of a local .tar.gz", "RUN pip3 install app.tar.gz\n", Clean),
            ("`-r requirements.txt`", "RUN pip install -r requirements.txt\n", Clean),
            ("`--requirement requirements.txt`", "RUN pip install --requirement requirements.txt\n", Clean),
            ("`pip install .`", "RUN pip install .\n", Clean),
            ("`pip install` of an unpinned package", "RUN pip install requests\n", Finds),
            ("pinned with ==", "RUN pip install requests==2.32.3\n", Clean),
            ("pinned with ~=", "RUN pip install requests~=2.32.3\n", Clean),
            ("pinned with ===", "RUN pip install requests===2.32.3\n", Clean),
            ("a flag before a pinned package", "RUN pip install --ignore-installed requests==2.32.3\n", Clean),
            ("`--build DIR` is not a package", "RUN pip3 install --build /opt/lint yamllint==1.35.1\n", Clean),
            ("`--prefix DIR` is not a package", "RUN pip3 install --prefix /opt/lint yamllint==1.35.1\n", Clean),
            ("`--root DIR` is not a package", "RUN pip3 install --root /opt/lint yamllint==1.35.1\n", Clean),
            ("`--target DIR` is not a package", "RUN pip3 install --target /opt/lint yamllint==1.35.1\n", Clean),
            ("`--trusted-host HOST` is not a package", "RUN pip3 install --trusted-host pypi.example.com requests==2.32.3\n", Clean),
            ("`python -m pip install` pinned", "RUN python -m pip install requests==2.32.3\n", Clean),
            ("`python -m pip install` unpinned", "RUN python -m pip install requests\n", Finds),
            ("git+https URL at a tag", "RUN pip install git+https://git.example.com/team/lib.git@0.6-alpha#egg=lib\n", Clean),
            ("git+ssh URL at a tag", "RUN pip install git+ssh://git.example.com/team/lib.git@0.6-alpha#egg=lib\n", Clean),
            ("git+https URL without a ref", "RUN pip install git+https://git.example.com/team/lib.git#egg=lib\n", Finds),
            ("git+ssh URL without a ref", "RUN pip install git+ssh://git.example.com/team/lib.git#egg=lib\n", Finds),
            ("a local directory", "RUN pip install vendor/lib\n", Clean),
            ("a URL to a .zip archive", "RUN pip install https://downloads.example.com/lib.zip\n", Clean),
            ("pinned with >=", "RUN pip install 'requests>=2.32'\n", Clean),
            ("pinned with <", "RUN pip install 'requests<3'\n", Clean),
            ("pinned with !=", "RUN pip install 'requests!=2.31'\n", Clean),
            ("a flag after a pinned package", "RUN pip install requests==2.32.3 --user\n", Clean),
            ("`--disable-pip-version-check` after a pinned package", "RUN pip install requests==2.32.3 --disable-pip-version-check\n", Clean),
            ("`--index-url URL` is not a package", "RUN pip install --index-url https://pypi.example.com/simple lib==1.0.0\n", Clean),
            ("`-i URL` is not a package", "RUN pip install -i https://pypi.example.com/simple lib==1.0.0\n", Clean),
            ("`--index-url` and `--extra-index-url` values are not packages", "RUN pip install --index-url https://pypi.example.com/simple --extra-index-url https://mirror.example.org/simple lib==1.0.0\n", Clean),
            ("`--no-cache-dir` after a pinned package", "RUN pip install requests==2.32.3 --no-cache-dir\n", Clean),
            ("`--constraint URL`", "RUN pip install kafka-python --constraint https://example.com/constraints.txt\n", Clean),
            ("`-c URL`", "RUN pip install kafka-python -c https://example.com/constraints.txt\n", Clean),
            ("index URLs with credentials are not packages", "RUN pip install --index-url https://user:pass@pypi.example.com/simple --extra-index-url https://user:pass@mirror.example.org/simple lib==1.0.0\n", Clean),
            ("`pipenv install` is not pip", "RUN pipenv install black\n", Clean),
            ("`pipx install` unpinned", "RUN pipx install black\n", Finds),
            ("`pipx install --python PATH` pinned", "RUN pipx install --python \"$(which python)\" \"poetry==1.8.5\"\n", Clean),
            ("`--root-user-action VALUE` is not a package", "RUN pip install --no-cache-dir --root-user-action ignore poetry==1.8.5\n", Clean),
            ("`--root-user-action=VALUE` before an unpinned package", "RUN pip install --root-user-action=ignore app\n", Finds),
        ],
    ));
    // `npm install` in a project is a finding, pinned or not: devctl wants `npm ci`.
    for (mirrors, dockerfile, verdict, deliberate) in [
        (
            "`npm install` of the project",
            "RUN npm install\n",
            Clean,
            true,
        ),
        (
            "`npm install --progress=false`",
            "RUN npm install --progress=false\n",
            Clean,
            true,
        ),
        (
            "a package pinned with @version",
            "RUN npm install express@4.21.2\n",
            Clean,
            true,
        ),
        (
            "a scoped package with a version range",
            "RUN npm install @team/private@\">=0.1.0\"\n",
            Clean,
            true,
        ),
        (
            "two packages pinned",
            "RUN npm install express@\"4.21.2\" sax@1.4.1\n",
            Clean,
            true,
        ),
        (
            "`--global` of a pinned package",
            "RUN npm install --global express@\"4.21.2\"\n",
            Clean,
            false,
        ),
        (
            "`-g` of a pinned package",
            "RUN npm install -g express@\"4.21.2\"\n",
            Clean,
            false,
        ),
        (
            "a local .tar",
            "RUN npm install app-v1.2.3.tar\n",
            Clean,
            true,
        ),
        (
            "a local .tar.gz",
            "RUN npm install app-v1.2.3.tar.gz\n",
            Clean,
            true,
        ),
        (
            "a local .tgz",
            "RUN npm install app-v1.2.3.tgz\n",
            Clean,
            true,
        ),
        (
            "an absolute folder",
            "RUN npm install /src/lib\n",
            Clean,
            true,
        ),
        ("a ./folder", "RUN npm install ./lib\n", Clean, true),
        ("a ../folder", "RUN npm install ../lib\n", Clean, true),
        ("a ~/folder", "RUN npm install ~/lib\n", Clean, true),
        (
            "git+ssh at a tag",
            "RUN npm install git+ssh://git@git.example.com:team/lib.git#v1.0.27\n",
            Clean,
            true,
        ),
        (
            "git+http at a semver range",
            "RUN npm install git+http://dev@git.example.com/team/lib#semver:^5.0\n",
            Clean,
            true,
        ),
        (
            "git+https at a tag",
            "RUN npm install git+https://dev@git.example.com/team/lib.git#v1.0.27\n",
            Clean,
            true,
        ),
        (
            "git:// at a tag",
            "RUN npm install git://git.example.com/team/lib.git#v1.0.27\n",
            Clean,
            true,
        ),
        (
            "`npm run` with a script named install",
            "RUN npm run --verbose install\n",
            Clean,
            false,
        ),
        (
            "a scoped package with a bounded range",
            "RUN npm install @team/private@\">=0.1.0 <0.2.0\"\n",
            Clean,
            true,
        ),
        (
            "an unpinned package",
            "RUN npm install express\n",
            Finds,
            false,
        ),
        (
            "an unpinned scoped package",
            "RUN npm install @team/private\n",
            Finds,
            false,
        ),
        (
            "one pinned, one unpinned package",
            "RUN npm install express sax@1.4.1\n",
            Finds,
            false,
        ),
        (
            "`--global` of an unpinned package",
            "RUN npm install --global express\n",
            Finds,
            false,
        ),
        (
            "git+ssh without a ref",
            "RUN npm install git+ssh://git@git.example.com:team/lib.git\n",
            Finds,
            false,
        ),
        (
            "git+http without a ref",
            "RUN npm install git+http://dev@git.example.com/team/lib\n",
            Finds,
            false,
        ),
        (
            "git+https without a ref",
            "RUN npm install git+https://dev@git.example.com/team/lib.git\n",
            Finds,
            false,
        ),
        (
            "git:// without a ref",
            "RUN npm install git://git.example.com/team/lib.git\n",
            Finds,
            false,
        ),
        (
            "`--loglevel VALUE` before a pinned package",
            "RUN npm install --loglevel verbose sax@1.4.1\n",
            Clean,
            true,
        ),
        (
            "`--registry URL` before a pinned package",
            "RUN npm install --registry https://registry.example.com sax@1.4.1\n",
            Clean,
            true,
        ),
        (
            "`--registry URL` before an unpinned package",
            "RUN npm install --registry https://registry.example.com express\n",
            Finds,
            false,
        ),
        (
            "`--registry=URL` before an unpinned package",
            "RUN npm install --registry=https://registry.example.com express\n",
            Finds,
            false,
        ),
    ] {
        let case = Case::hadolint("DL3016", &UNFROZEN_INSTALL, mirrors, dockerfile, verdict);
        cases.push(if deliberate {
            case.deliberately(NPM_CI)
        } else {
            case
        });
    }
    cases.extend(of(
        "DL3019",
        &PACKAGE_CACHE_LEFT,
        &[
            ("`apk add` without --no-cache", "RUN apk add flex=2.6.4-r1\n", Finds),
            ("`apk add --no-cache`", "RUN apk add --no-cache flex=2.6.4-r1\n", Clean),
            ("a cache mount on /var/cache/apk", "RUN --mount=type=cache,target=/var/cache/apk apk add -U curl=8.9.1-r0\n", Clean),
            ("a tmpfs mount on /var/cache/apk", "RUN --mount=type=tmpfs,target=/var/cache/apk apk add -U curl=8.9.1-r0\n", Clean),
            ("a cache mount elsewhere, with --no-cache", "RUN --mount=type=cache,target=/var/cache/other apk add --no-cache -U curl=8.9.1-r0\n", Clean),
            ("a cache mount elsewhere, without --no-cache", "RUN --mount=type=cache,target=/var/cache/other apk add -U curl=8.9.1-r0\n", Finds),
            ("a tmpfs mount elsewhere, without --no-cache", "RUN --mount=type=tmpfs,target=/var/cache/other apk add -U curl=8.9.1-r0\n", Finds),
        ],
    ));
    cases.extend(of(
        "DL3032",
        &PACKAGE_CACHE_LEFT,
        &[
            (
                "`yum install` without clean",
                "RUN yum install -y mariadb-10.4\n",
                Finds,
            ),
            (
                "`yum install` then `yum clean all`",
                "RUN yum install -y mariadb-10.4 && yum clean all\n",
                Clean,
            ),
            (
                "no yum command",
                "RUN bash -c `# not a yum command`\n",
                Clean,
            ),
            (
                "`yum install` then rm of /var/cache/yum",
                "RUN yum install -y mariadb-10.4 && rm -rf /var/cache/yum/*\n",
                Clean,
            ),
            (
                "`yum install` then `yum clean all`, again",
                "RUN yum install -y httpd && yum clean all\n",
                Clean,
            ),
            (
                "`yum clean all` before the install",
                "RUN yum clean all && yum install -y\n",
                Finds,
            ),
        ],
    ));
    cases.extend(of(
        "DL3036",
        &PACKAGE_CACHE_LEFT,
        &[
            (
                "`zypper install` without clean",
                "RUN zypper install -y mariadb=10.4\n",
                Finds,
            ),
            (
                "`zypper install` then `zypper clean`",
                "RUN zypper install -y mariadb=10.4 && zypper clean\n",
                Clean,
            ),
            (
                "`zypper install` then `zypper cc`",
                "RUN zypper install -y mariadb=10.4 && zypper cc\n",
                Clean,
            ),
            (
                "`zypper clean` before the install",
                "RUN zypper clean && zypper install -y mariadb=10.4\n",
                Finds,
            ),
            (
                "a cache mount on /var/cache/zypp",
                "RUN --mount=type=cache,target=/var/cache/zypp zypper install -y mariadb\n",
                Clean,
            ),
            (
                "a tmpfs mount on /var/cache/zypp",
                "RUN --mount=type=tmpfs,target=/var/cache/zypp zypper install -y mariadb\n",
                Clean,
            ),
        ],
    ));
    cases.extend(of(
        "DL3040",
        &PACKAGE_CACHE_LEFT,
        &[
            ("`dnf install` without clean", "RUN dnf install -y mariadb-10.4\n", Finds),
            ("`microdnf install` without clean", "RUN microdnf install -y mariadb-10.4\n", Finds),
            ("`dnf in` without clean", "RUN dnf in -y mariadb-10.4\n", Finds),
            ("`dnf install` then `dnf clean all`", "RUN dnf install -y mariadb-10.4 && dnf clean all\n", Clean),
            ("`dnf in` then `dnf clean all`", "RUN dnf in -y mariadb-10.4 && dnf clean all\n", Clean),
            ("`microdnf install` then `microdnf clean all`", "RUN microdnf install -y mariadb-10.4 && microdnf clean all\n", Clean),
            ("a program merely named like dnf", "RUN notdnf install mariadb\n", Clean),
            ("`dnf install` then rm of /var/cache/yum", "RUN dnf install -y mariadb-10.4 && rm -rf /var/cache/yum/*\n", Clean),
            ("`dnf in` then rm of /var/cache/yum", "RUN dnf in -y mariadb-10.4 && rm -rf /var/cache/yum/*\n", Clean),
            ("`microdnf install` then rm of /var/cache/yum", "RUN microdnf install -y mariadb-10.4 && rm -rf /var/cache/yum/*\n", Clean),
            ("`microdnf clean all` before `dnf install`", "RUN microdnf clean all && dnf install -y mariadb-10.4\n", Finds),
            ("`microdnf clean all` before `dnf in`", "RUN microdnf clean all && dnf in -y mariadb-10.4\n", Finds),
            ("rm of /var/cache/libdnf5 before `dnf install`", "RUN rm -rf /var/cache/libdnf5 && dnf install -y mariadb-10.4\n", Finds),
            ("rm of /var/cache/libdnf5 before `dnf in`", "RUN rm -rf /var/cache/libdnf5 && dnf in -y mariadb-10.4\n", Finds),
            ("rm of /var/cache/libdnf5 before `microdnf install`", "RUN rm -rf /var/cache/libdnf5 && microdnf install -y mariadb-10.4\n", Finds),
            ("a cache mount on /var/cache/libdnf5, `dnf install`", "RUN --mount=type=cache,target=/var/cache/libdnf5 dnf install -y mariadb-10.4\n", Clean),
            ("a cache mount on /var/cache/libdnf5, `dnf in`", "RUN --mount=type=cache,target=/var/cache/libdnf5 dnf in -y mariadb-10.4\n", Clean),
            ("a cache mount on /var/cache/libdnf5, `microdnf install`", "RUN --mount=type=cache,target=/var/cache/libdnf5 microdnf install -y mariadb-10.4\n", Clean),
            ("a tmpfs mount on /var/cache/libdnf5, `dnf install`", "RUN --mount=type=tmpfs,target=/var/cache/libdnf5 dnf install -y mariadb-10.4\n", Clean),
            ("a tmpfs mount on /var/cache/libdnf5, `dnf in`", "RUN --mount=type=tmpfs,target=/var/cache/libdnf5 dnf in -y mariadb-10.4\n", Clean),
            ("a tmpfs mount on /var/cache/libdnf5, `microdnf install`", "RUN --mount=type=tmpfs,target=/var/cache/libdnf5 microdnf install -y mariadb-10.4\n", Clean),
            ("`dnf upgrade` without clean", "RUN dnf -y upgrade\n", Finds),
            ("`dnf up` without clean", "RUN dnf -y up\n", Finds),
            ("`dnf install` of nothing named, without clean", "RUN dnf -y install\n", Finds),
            ("`dnf in` of nothing named, without clean", "RUN dnf -y in\n", Finds),
            ("`dnf upgrade` without clean, again", "RUN dnf --assumeyes upgrade\n", Finds),
            ("`dnf up` without clean, again", "RUN dnf --assumeyes up\n", Finds),
            ("`dnf upgrade-minimal` without clean", "RUN dnf -y upgrade-minimal\n", Finds),
            ("`dnf up-min` without clean", "RUN dnf -y up-min\n", Finds),
            ("`dnf reinstall` without clean", "RUN dnf -y reinstall\n", Finds),
            ("`dnf rei` without clean", "RUN dnf -y rei\n", Finds),
            ("`dnf install` then clean", "RUN dnf -y install && dnf clean all\n", Clean),
            ("`dnf in` then clean", "RUN dnf -y in && dnf clean all\n", Clean),
            ("`dnf upgrade` then clean", "RUN dnf -y upgrade && dnf clean all\n", Clean),
            ("`dnf up` then clean", "RUN dnf -y up && dnf clean all\n", Clean),
            ("`dnf upgrade-minimal` then clean", "RUN dnf -y upgrade-minimal && dnf clean all\n", Clean),
            ("`dnf up-min` then clean", "RUN dnf -y up-min && dnf clean all\n", Clean),
            ("`dnf reinstall` then clean", "RUN dnf -y reinstall && dnf clean all\n", Clean),
            ("`dnf rei` then clean", "RUN dnf -y rei && dnf clean all\n", Clean),
        ],
    ));
    cases.extend(of(
        "DL3042",
        &PACKAGE_CACHE_LEFT,
        &[
            ("`pip2 install` without --no-cache-dir", "RUN pip2 install requests\n", Finds),
            ("`pip3 install` without --no-cache-dir", "RUN pip3 install requests\n", Finds),
            ("`pip install` without --no-cache-dir", "RUN pip install requests\n", Finds),
            ("`pip2 install … --no-cache-dir`", "RUN pip2 install requests --no-cache-dir\n", Clean),
            ("`pip3 install --no-cache-dir …`", "RUN pip3 install --no-cache-dir requests\n", Clean),
            ("`pip install … --no-cache-dir`", "RUN pip install requests --no-cache-dir\n", Clean),
            ("`pipx install` is not pip", "RUN pipx install black\n", Clean),
            ("`pipenv install` is not pip", "RUN pipenv install requests\n", Clean),
            ("ENV PIP_NO_CACHE_DIR=1", "ENV PIP_NO_CACHE_DIR=1\nRUN pip install requests\n", Clean),
            ("ENV PIP_NO_CACHE_DIR=on", "ENV PIP_NO_CACHE_DIR=on\nRUN pip install requests\n", Clean),
            ("ENV PIP_NO_CACHE_DIR=yes", "ENV PIP_NO_CACHE_DIR=yes\nRUN pip install requests\n", Clean),
            ("ENV PIP_NO_CACHE_DIR=true", "ENV PIP_NO_CACHE_DIR=true\nRUN pip install requests\n", Clean),
            ("PIP_NO_CACHE_DIR=1 set inline", "RUN PIP_NO_CACHE_DIR=1 pip install requests\n", Clean),
            ("PIP_NO_CACHE_DIR=on set inline", "RUN PIP_NO_CACHE_DIR=on pip install requests\n", Clean),
            ("PIP_NO_CACHE_DIR=yes set inline", "RUN PIP_NO_CACHE_DIR=yes pip install requests\n", Clean),
            ("PIP_NO_CACHE_DIR=true set inline", "RUN PIP_NO_CACHE_DIR=true pip install requests\n", Clean),
            ("PIP_NO_CACHE_DIR=1 exported earlier in the RUN", "RUN export PIP_NO_CACHE_DIR=1 && pip install requests\n", Clean),
            ("PIP_NO_CACHE_DIR=on exported earlier in the RUN", "RUN export PIP_NO_CACHE_DIR=on && pip install requests\n", Clean),
            ("PIP_NO_CACHE_DIR=yes exported earlier in the RUN", "RUN export PIP_NO_CACHE_DIR=yes && pip install requests\n", Clean),
            ("PIP_NO_CACHE_DIR=true exported earlier in the RUN", "RUN export PIP_NO_CACHE_DIR=true && pip install requests\n", Clean),
            ("ENV PIP_NO_CACHE_DIR=0", "ENV PIP_NO_CACHE_DIR=0\nRUN pip install requests\n", Finds),
            ("ENV PIP_NO_CACHE_DIR=off", "ENV PIP_NO_CACHE_DIR=off\nRUN pip install requests\n", Finds),
            ("ENV PIP_NO_CACHE_DIR=no", "ENV PIP_NO_CACHE_DIR=no\nRUN pip install requests\n", Finds),
            ("ENV PIP_NO_CACHE_DIR=false", "ENV PIP_NO_CACHE_DIR=false\nRUN pip install requests\n", Finds),
            ("PIP_NO_CACHE_DIR=0 set inline", "RUN PIP_NO_CACHE_DIR=0 pip install requests\n", Finds),
            ("PIP_NO_CACHE_DIR=off set inline", "RUN PIP_NO_CACHE_DIR=off pip install requests\n", Finds),
            ("PIP_NO_CACHE_DIR=no set inline", "RUN PIP_NO_CACHE_DIR=no pip install requests\n", Finds),
            ("PIP_NO_CACHE_DIR=false set inline", "RUN PIP_NO_CACHE_DIR=false pip install requests\n", Finds),
            ("PIP_NO_CACHE_DIR=0 exported earlier in the RUN", "RUN export PIP_NO_CACHE_DIR=0 && pip install requests\n", Finds),
            ("PIP_NO_CACHE_DIR=off exported earlier in the RUN", "RUN export PIP_NO_CACHE_DIR=off && pip install requests\n", Finds),
            ("PIP_NO_CACHE_DIR=no exported earlier in the RUN", "RUN export PIP_NO_CACHE_DIR=no && pip install requests\n", Finds),
            ("PIP_NO_CACHE_DIR=false exported earlier in the RUN", "RUN export PIP_NO_CACHE_DIR=false && pip install requests\n", Finds),
            ("PIP_NO_CACHE_DIR=1 inherited from the stage it is built FROM", "FROM debian:12 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM base\nRUN pip install six\n", Clean),
            ("PIP_NO_CACHE_DIR=1 set in another, unrelated stage", "FROM debian:12 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM debian:12\nRUN pip install six\n", Finds),
            ("a cache mount on /root/.cache/pip", "RUN --mount=type=cache,target=/root/.cache/pip pip install requests\n", Clean),
            ("a tmpfs mount on /root/.cache/pip", "RUN --mount=type=tmpfs,target=/root/.cache/pip pip install requests\n", Clean),
        ],
    ));
    cases.extend(of(
        "DL3060",
        &PACKAGE_CACHE_LEFT,
        &[
            ("no yarn command", "RUN make\n", Clean),
            ("`yarn install` without `yarn cache clean`", "RUN yarn install left-pad\n", Finds),
            ("`yarn install` then `yarn cache clean`", "RUN yarn install left-pad && yarn cache clean\n", Clean),
            ("`yarn cache clean` before the install", "RUN yarn cache clean && yarn install left-pad\n", Finds),
            ("a cache mount on /root/.cache/yarn", "RUN --mount=type=cache,target=/root/.cache/yarn yarn install left-pad\n", Clean),
            ("a tmpfs mount on /root/.cache/yarn", "RUN --mount=type=tmpfs,target=/root/.cache/yarn yarn install left-pad\n", Clean),
            ("a cache mount elsewhere", "RUN --mount=type=cache,target=/var/lib/other yarn install left-pad\n", Finds),
            ("a tmpfs mount elsewhere", "RUN --mount=type=tmpfs,target=/var/lib/other yarn install left-pad\n", Finds),
            ("`yarn install` in the last stage", "FROM node:22-alpine AS build\nRUN make\nFROM scratch\nRUN yarn install\n", Finds),
            ("`yarn install` in a stage the last stage is built FROM", "FROM node:22-alpine AS build\nRUN yarn install\nFROM build\nRUN make\n", Finds),
            ("`yarn cache clean` in a stage the last stage is built FROM", "FROM node:22-alpine AS build\nRUN yarn install && yarn cache clean\nFROM build\nRUN make\n", Clean),
            ("`yarn install` in a stage no later stage uses", "FROM node:22-alpine AS build\nRUN yarn install left-pad\nFROM scratch\nRUN make\n", Clean),
        ],
    ));
    cases
}

#[test]
fn every_case_of_the_nine_specs_is_here() {
    assert_eq!(cases().len(), 201);
}
