#!/usr/bin/env pwsh
# Builds and tests the whole solution. Run through the repo-local tool manifest:
#   dotnet tool restore && dotnet pwsh ./build.ps1 [-Target build|test|all]
# Ends with one line 'N passed, N failed' and a non-zero exit code when anything failed.
param(
    [ValidateSet('all', 'build', 'test')]
    [string] $Target = 'all',
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Step([string] $Name, [scriptblock] $Command) {
    Write-Host "==> $Name"
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$Name failed with exit code $LASTEXITCODE" }
}

Step 'restore' { dotnet restore Extensions.sln }
Step 'build' { dotnet build Extensions.sln -c $Configuration --no-restore }
if ($Target -eq 'build') { exit 0 }

$results = Join-Path $PSScriptRoot 'TestResults'
Remove-Item -Recurse -Force $results -ErrorAction SilentlyContinue
Write-Host '==> test'
dotnet test Extensions.sln -c $Configuration --no-build --results-directory $results --logger 'trx;LogFileName=results.trx' --logger 'console;verbosity=normal'
$testExit = $LASTEXITCODE

$passed = 0; $failed = 0
foreach ($trx in Get-ChildItem -Path $results -Filter '*.trx' -Recurse -ErrorAction SilentlyContinue) {
    $counters = ([xml](Get-Content $trx.FullName)).TestRun.ResultSummary.Counters
    $passed += [int]$counters.passed
    $failed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
}
if ($testExit -ne 0 -and $failed -eq 0) { $failed = 1 }  # the runner itself failed (crash, no results)
Write-Host "$passed passed, $failed failed"
if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
